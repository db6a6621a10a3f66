"""Pretext-Contrastive Learning (PCL, VCP variant; paper Sec. 4.2 and ref. [38]): the model and its loss.

`PCLModel` is a VideoResNet18 (same layout, same parameter names) whose `fc` is the pretext classifier
Linear(tuple_len x feat, 5) over the tuple's concatenated pooled features, plus a projection `head`
for the contrastive views. Its backbone tensors keep VideoResNet18's names (stem.*, layer1-4.*), so a
PCL checkpoint fine-tunes through trainer.load_backbone unchanged: `fc.*` is skipped there, and `head.*`
is not part of a classifier's state.

The three clips of a batch's tuples go through the backbone as one batch of 3B clips (one pass instead
of the authors' three; BatchNorm's statistics then cover all three positions together).

`PCLLoss` is the criterion: pretext_weight x CE(pretext) + contrast_weight x (L1 + L2), the paper's
CE + 0.5 (L1 + L2) at the defaults. It holds the memory bank, so it is an nn.Module whose state (the
banks and the negative-draw counter) trainer.fit checkpoints beside the model's: a resumed run draws
the same negatives against the same bank.

With `residual` the model sees roll(x, 1, time) - x of every clip (video.residual.residual_clip), after
the pretext transforms, as the authors' VCPN does; the flag is in the checkpoint's architecture, so
fine-tuning from it applies the same to its clips.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from noisyactions.training.contrastive import MemoryBank, ProjectionHead, nce_loss
from noisyactions.training.models import VideoResNet18
from noisyactions.training.pretext import PRETEXT_TASKS


class PCLOutput(NamedTuple):
    pretext_logits: torch.Tensor  # (B, 5)
    z1: torch.Tensor  # (B, projection_dim) view 1 (first clip), L2-normalised
    z2: torch.Tensor  # (B, projection_dim) view 2 (last clip), L2-normalised


class PCLModel(VideoResNet18):
    def __init__(self, kind: str, width: float = 1.0, tuple_len: int = 3, projection_dim: int = 128, residual: bool = False):
        super().__init__(kind, len(PRETEXT_TASKS), width, residual)
        feat = self.fc.in_features
        self.tuple_len, self.feature_dim = tuple_len, feat
        self.fc = nn.Linear(tuple_len * feat, len(PRETEXT_TASKS))
        nn.init.normal_(self.fc.weight, 0, 0.01)
        nn.init.constant_(self.fc.bias, 0)
        self.head = ProjectionHead(feat, feat, projection_dim)

    def forward(self, tuples: torch.Tensor) -> PCLOutput:
        """tuples (B, tuple_len, C, T, H, W) -> pretext logits and the two views' embeddings."""
        batch, count = tuples.shape[:2]
        if count != self.tuple_len:
            raise ValueError(f"PCL model built for tuples of {self.tuple_len} clips, got {count} (input {tuple(tuples.shape)})")
        features = self.features(tuples.flatten(0, 1)).view(batch, count, -1)
        logits = self.fc(features.flatten(1))
        return PCLOutput(logits, self.head(features[:, 0]), self.head(features[:, -1]))


def pcl_total(pretext_ce: torch.Tensor, l1: torch.Tensor, l2: torch.Tensor, contrast_weight: float = 0.5, pretext_weight: float = 1.0) -> torch.Tensor:
    """pretext_weight x CE_pretext + contrast_weight x (L1 + L2): the paper's CE + 0.5 (L1 + L2)."""
    return pretext_weight * pretext_ce + contrast_weight * (l1 + l2)


class PCLLoss(nn.Module):
    """The PCL criterion in the trainer's shape: loss(model output, pretext labels, video indices).

    `parts` keeps the last batch's terms (pretext, contrast_1, contrast_2, pretext_accuracy) as detached
    tensors, for logging without a device sync per step."""

    def __init__(self, videos: int, projection_dim: int = 128, negatives: int = 1024, temperature: float = 0.07, memory_momentum: float = 0.5,
                 contrast_weight: float = 0.5, pretext_weight: float = 1.0, seed: int = 0):
        super().__init__()
        self.bank = MemoryBank(videos, projection_dim, negatives, temperature, memory_momentum, seed)
        self.contrast_weight, self.pretext_weight = contrast_weight, pretext_weight
        self.parts: dict[str, torch.Tensor] = {}

    def forward(self, output: PCLOutput, labels: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        logits = output.pretext_logits.float()
        labels = labels.to(logits.device)
        pretext = F.cross_entropy(logits, labels)
        logits1, logits2 = self.bank(output.z1, output.z2, index.to(logits.device))
        l1, l2 = nce_loss(logits1), nce_loss(logits2)
        self.parts = {"pretext": pretext.detach(), "contrast_1": l1.detach(), "contrast_2": l2.detach(),
                      "pretext_accuracy": (logits.argmax(1) == labels).float().mean().detach()}
        return pcl_total(pretext, l1, l2, self.contrast_weight, self.pretext_weight)
