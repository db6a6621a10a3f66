"""The five pretraining losses of Sec. 4.1 and App. B.1.

Multi-label targets are multi-hot (videos x classes). The single-label losses pick, every epoch, one
label per video: CCE at random, CCE-Mask by Algorithm 1, which also masks the video's other labels
("partial" labels) out of the softmax so they are neither pushed up nor down.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def random_single_labels(labels: list[list[int]], rng: np.random.Generator) -> np.ndarray:
    """CCE: one of each video's labels, drawn at random (again every epoch)."""
    return np.array([row[rng.integers(len(row))] for row in labels])


LABEL_ORDERS = ("random", "listed")
THRESHOLDS = ("global_mean", "class_share")


def label_counts(labels: list[list[int]], classes: int) -> np.ndarray:
    """How many videos have each class as a label (n_c): what CCE-Mask's thresholds and the
    Distribution-Balanced loss are both computed from."""
    return np.bincount([label for row in labels for label in row], minlength=classes)


def cce_mask_thresholds(counts: np.ndarray, videos: int, kind: str) -> np.ndarray:
    """Algorithm 1's class thresholds, one per class, from the label counts (`label_counts`) of
    `videos` videos. `global_mean` (the authors'): every class gets the mean number of videos per label
    in use. `class_share`: class c gets its share of the videos in proportion to how often it is a
    label, n_c x videos / (video, label) pairs; the shares add up to the number of videos, so a
    frequent class is not capped at a rare class's level."""
    counts = np.asarray(counts, dtype=np.float64)
    if kind == "global_mean":
        return np.full(len(counts), counts[counts > 0].mean())
    if kind == "class_share":
        return counts * videos / counts.sum()
    raise ValueError(f"training.cce_mask.threshold: {kind!r} is not one of {THRESHOLDS}")


def cce_mask_assignment(labels: list[list[int]], thresholds: np.ndarray, rng: np.random.Generator,
                        label_order: str = "random") -> tuple[np.ndarray, list[list[int]]]:
    """Algorithm 1, step 2(1)-(2), for one epoch. Walking the videos in a random order, a video's first
    label whose counter is still less than its class threshold becomes its single label (counter + 1);
    a video all of whose labels have reached their thresholds gets one of them at random; its other
    labels become partial. "First" follows `label_order`: `listed`, the order of the video's row (the
    order the crawl found its labels, when the split list keeps it); `random`, the row shuffled for every
    video and epoch, so that no label wins by its place in a list (alphabetical lists favour early
    letters). Returns (single label per video, partial labels per video)."""
    if label_order not in LABEL_ORDERS:
        raise ValueError(f"training.cce_mask.label_order: {label_order!r} is not one of {LABEL_ORDERS}")
    counter = np.zeros(len(thresholds), dtype=np.int64)
    single = np.empty(len(labels), dtype=np.int64)
    for video in rng.permutation(len(labels)):
        row = labels[video]
        walk = [row[k] for k in rng.permutation(len(row))] if label_order == "random" else row
        chosen = next((label for label in walk if counter[label] < thresholds[label]), None)
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
    """Sigmoid focal loss, alpha on positives (torchvision's convention; the authors' code had it reversed).
    torchvision is imported here, not at the top: importing it costs every training job about a second
    (it pulls in torch._dynamo), and only the focal pretraining needs it."""
    from torchvision.ops import sigmoid_focal_loss

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

