"""Video-level predictions and accuracy (paper Sec. 5): a video's prediction is the mean softmax of
all its clips; a video that failed to load counts as wrong."""

from __future__ import annotations

import torch


def video_prediction(clip_logits: torch.Tensor) -> torch.Tensor:
    """(clips, classes) logits of one video -> its (classes,) class probabilities."""
    return clip_logits.float().softmax(dim=-1).mean(dim=0)


def top1_accuracy(predictions: list[torch.Tensor], targets: list[int], failed: int = 0) -> float:
    """Top-1 over every test video, the `failed` ones (unreadable files) counted as errors."""
    total = len(predictions) + failed
    if total == 0:
        return 0.0
    correct = sum(int(p.argmax()) == int(t) for p, t in zip(predictions, targets))
    return correct / total
