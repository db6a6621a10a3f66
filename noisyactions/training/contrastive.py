"""The contrastive half of PCL: an MLP projection head and memory-bank NCE over two views (CMC's
NCEAverage with use_softmax=True and NCESoftmaxLoss, as the PCL authors use it).

Clips 1 and 3 of a video's tuple are its two views. The head maps each view's backbone feature to an
L2-normalised embedding (feat -> feat -> 128). Each view has its own memory bank, one row per training
video. View 1's embedding of video i is scored against view 2's bank at row i (the positive, logit 0)
and at K other rows (the negatives), each dot product divided by the temperature; the loss is softmax
cross-entropy with the positive as the target (L1), and symmetrically for view 2 against view 1's bank
(L2). After scoring, each bank's rows of the batch move towards the batch's embeddings:
row <- normalise(momentum * row + (1 - momentum) * embedding).

Paper values: K = 1024, temperature 0.07, momentum 0.5, 128-d embeddings. Negatives are drawn
uniformly, with replacement, among the other videos (CMC drew among all, the video itself included;
at the embedded world's few hundred videos a video would often be its own negative). They come from a
generator seeded by (seed, number of draws so far), a counter kept in the bank's state, so a run
resumed from a checkpoint that holds the bank draws what an uninterrupted run would.

Under DistributedDataParallel every process must hold the same banks: `MemoryBank.update` gathers the
embeddings and indices of all processes first (batches of unequal length included). The bank belongs outside the DDP-wrapped model (DDP would
broadcast its buffers, N x 128 x 2 floats, every step).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def l2_normalise(x: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """x / ||x||_2 along `dim` (the authors' Normalize(2), without an epsilon: a zero row stays NaN)."""
    return x / x.pow(2).sum(dim, keepdim=True).sqrt()


class ProjectionHead(nn.Module):
    """MoCo v2's neck, the PCL authors' head: Linear(in, hidden) - ReLU - Linear(hidden, out), then L2-normalised."""

    def __init__(self, in_dim: int, hidden_dim: int | None = None, out_dim: int = 128):
        super().__init__()
        hidden_dim = hidden_dim or in_dim
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True), nn.Linear(hidden_dim, out_dim))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return l2_normalise(self.mlp(features).float())  # normalised in float32, also under autocast


def nce_logits(anchor: torch.Tensor, memory: torch.Tensor, positive: torch.Tensor, negatives: torch.Tensor, temperature: float) -> torch.Tensor:
    """(B, 1 + K) logits: anchor[b] . memory[positive[b]] first, then anchor[b] . memory[negatives[b, k]],
    all / temperature. The memory is a constant (no gradient reaches it)."""
    rows = torch.cat([positive.view(-1, 1), negatives], dim=1)  # (B, 1 + K)
    weights = memory.detach()[rows]  # (B, 1 + K, D)
    return torch.bmm(weights, anchor.unsqueeze(2)).squeeze(2) / temperature


def nce_loss(logits: torch.Tensor) -> torch.Tensor:
    """NCESoftmaxLoss: softmax cross-entropy with the positive (column 0) as the target, averaged over the batch."""
    return F.cross_entropy(logits.float(), torch.zeros(len(logits), dtype=torch.long, device=logits.device))


@torch.no_grad()
def momentum_update_(memory: torch.Tensor, index: torch.Tensor, features: torch.Tensor, momentum: float) -> None:
    """memory[index] <- normalise(momentum * memory[index] + (1 - momentum) * features), in place.
    An index repeated in one call keeps one of its updates (torch's index_copy_); samplers give each
    video once per batch."""
    rows = memory.index_select(0, index) * momentum + features.to(memory.dtype) * (1 - momentum)
    memory.index_copy_(0, index, l2_normalise(rows))


def draw_negatives(index: torch.Tensor, videos: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """(B, k) rows drawn uniformly with replacement among the `videos` rows other than index[b]."""
    if videos < 2:
        raise ValueError(f"memory-bank NCE needs at least 2 videos to draw negatives from, got {videos}")
    draws = torch.randint(0, videos - 1, (len(index), k), generator=generator)
    own = index.view(-1, 1).cpu()
    return draws + (draws >= own).long()  # skip the video's own row


def _gather(tensor: torch.Tensor) -> torch.Tensor:
    """Every process's `tensor` concatenated along dim 0 (itself without torch.distributed). Lengths may
    differ: a batch loses the samples that failed to load (collate_clips), so each process pads to the
    longest and the padding is cut off after the gather."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()) or torch.distributed.get_world_size() == 1:
        return tensor
    world = torch.distributed.get_world_size()
    length = torch.tensor([len(tensor)], device=tensor.device)
    lengths = [torch.zeros_like(length) for _ in range(world)]
    torch.distributed.all_gather(lengths, length)
    lengths = [int(n) for n in lengths]
    padded = tensor.new_zeros((max(lengths), *tensor.shape[1:]))
    padded[: len(tensor)] = tensor
    parts = [torch.empty_like(padded) for _ in range(world)]
    torch.distributed.all_gather(parts, padded.contiguous())
    return torch.cat([part[:n] for part, n in zip(parts, lengths)])


class MemoryBank(nn.Module):
    """Two banks (view 1, view 2) of `videos` x `dim` embeddings, scored and updated by `forward`."""

    def __init__(self, videos: int, dim: int = 128, negatives: int = 1024, temperature: float = 0.07, momentum: float = 0.5, seed: int = 0):
        super().__init__()
        if negatives < 1 or temperature <= 0 or not 0 <= momentum < 1:
            raise ValueError(f"memory bank: negatives {negatives} >= 1, temperature {temperature} > 0 and 0 <= momentum {momentum} < 1 needed")
        self.videos, self.dim, self.negatives, self.temperature, self.momentum, self.seed = videos, dim, negatives, temperature, momentum, seed
        # CMC's initialisation: uniform in +-1/sqrt(dim/3), not normalised (every row is replaced on its first update)
        generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / math.sqrt(dim / 3)
        self.register_buffer("view1", torch.rand(videos, dim, generator=generator).mul_(2 * bound).sub_(bound))
        self.register_buffer("view2", torch.rand(videos, dim, generator=generator).mul_(2 * bound).sub_(bound))
        self.register_buffer("draws", torch.zeros((), dtype=torch.long))

    def sample_negatives(self, index: torch.Tensor) -> torch.Tensor:
        """The next (B, K) negatives, from a generator seeded by (seed, draws so far, process rank):
        under DDP each process draws its own, as one process would for the whole batch."""
        rank = torch.distributed.get_rank() if torch.distributed.is_available() and torch.distributed.is_initialized() else 0
        generator = torch.Generator().manual_seed(int(np.random.SeedSequence([self.seed, int(self.draws), rank]).generate_state(1, np.uint64)[0]))
        self.draws += 1
        return draw_negatives(index, self.videos, self.negatives, generator).to(index.device)

    def logits(self, z1: torch.Tensor, z2: torch.Tensor, index: torch.Tensor, negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(view 1 against bank 2, view 2 against bank 1), each (B, 1 + K)."""
        return (nce_logits(z1, self.view2, index, negatives, self.temperature),
                nce_logits(z2, self.view1, index, negatives, self.temperature))

    @torch.no_grad()
    def update(self, z1: torch.Tensor, z2: torch.Tensor, index: torch.Tensor) -> None:
        z1, z2, index = _gather(z1.detach().float()), _gather(z2.detach().float()), _gather(index)
        momentum_update_(self.view1, index, z1, self.momentum)
        momentum_update_(self.view2, index, z2, self.momentum)

    def forward(self, z1: torch.Tensor, z2: torch.Tensor, index: torch.Tensor, negatives: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Score the batch against the banks as they were, then update the banks with it."""
        index = index.to(self.view1.device)
        negatives = self.sample_negatives(index) if negatives is None else negatives.to(index.device)
        logits = self.logits(z1.float(), z2.float(), index, negatives)
        self.update(z1, z2, index)
        return logits
