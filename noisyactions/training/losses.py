"""The five pretraining losses of Sec. 4.1 (App. B.1; ../shared/reference/training.md).

Multi-label targets are multi-hot (videos x classes). The single-label losses pick, every epoch, one
label per video: CCE at random, CCE-Mask by Algorithm 1, which also masks the video's other labels
("partial" labels) out of the softmax so they are neither pushed up nor down.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss


def random_single_labels(labels: list[list[int]], rng: np.random.Generator) -> np.ndarray:
    """CCE: one of each video's labels, drawn at random (again every epoch)."""
    return np.array([row[rng.integers(len(row))] for row in labels])


def cce_mask_assignment(labels: list[list[int]], classes: int, rng: np.random.Generator) -> tuple[np.ndarray, list[list[int]]]:
    """Algorithm 1 as the authors implemented it: threshold = mean videos per label; walking the videos,
    a video's first label whose counter is still <= threshold becomes its single label (counter + 1),
    its other labels become partial; a video all of whose labels are past the threshold gets one of
    them at random. Returns (single label per video, partial labels per video)."""
    counts = np.bincount([label for row in labels for label in row], minlength=classes)
    threshold = counts[counts > 0].mean()
    counter = np.zeros(classes, dtype=np.int64)
    single = np.empty(len(labels), dtype=np.int64)
    for video in rng.permutation(len(labels)):
        row = labels[video]
        chosen = next((label for label in row if counter[label] <= threshold), None)
        if chosen is None:
            chosen = row[rng.integers(len(row))]
        else:
            counter[chosen] += 1
        single[video] = chosen
    partial = [[label for label in row if label != single[v]] for v, row in enumerate(labels)]
    return single, partial


def cce_loss(logits: torch.Tensor, single: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float(), single)


def cce_mask_loss(logits: torch.Tensor, single: torch.Tensor, partial_mask: torch.Tensor) -> torch.Tensor:
    """Softmax CE on the single label with the partial labels' logits at -inf."""
    return F.cross_entropy(logits.float().masked_fill(partial_mask, float("-inf")), single)


def bce_loss(logits: torch.Tensor, multi_hot: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), multi_hot)


def focal_loss(logits: torch.Tensor, multi_hot: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Sigmoid focal loss, alpha on positives (torchvision's convention; the authors' code had it reversed)."""
    return sigmoid_focal_loss(logits.float(), multi_hot, alpha=alpha, gamma=gamma, reduction="mean")


class DistributionBalancedFocal(torch.nn.Module):
    """Distribution-Balanced loss (Wu et al. 2020): re-balanced weights and negative-tolerant
    regularisation on a sigmoid focal loss. `class_counts`: positives per class in the training set."""

    def __init__(self, class_counts: np.ndarray, videos: int, alpha: float, beta: float, mu: float, lam: float, kappa: float, gamma: float):
        super().__init__()
        counts = torch.as_tensor(np.maximum(class_counts, 1), dtype=torch.float32)
        self.register_buffer("inverse", 1.0 / counts)
        ratio = (videos / counts - 1.0).clamp_min(1e-6)
        self.register_buffer("bias", -torch.log(ratio) * kappa / lam)
        self.alpha, self.beta, self.mu, self.lam, self.gamma = alpha, beta, mu, lam, gamma

    def forward(self, logits: torch.Tensor, multi_hot: torch.Tensor) -> torch.Tensor:
        y = multi_hot
        repeat = (y * self.inverse).sum(dim=1, keepdim=True).clamp_min(1e-12)
        r = self.inverse / repeat
        weight = self.alpha + torch.sigmoid(self.beta * (r - self.mu))
        z = logits.float() + self.bias
        z = z * y + self.lam * z * (1 - y)
        weight = weight * y + weight / self.lam * (1 - y)
        bce = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        pt = torch.exp(-bce)
        return (2.0 * (1 - pt) ** self.gamma * weight * bce).mean()

