"""Residual clips (PCL, Tao et al. 2020): each frame minus the one before it, `roll(x, 1, time) - x`.

The authors' `diff` exactly, wrap-around included: frame 0 becomes frame T-1 minus frame 0. It is applied
to the normalised clip the model takes, in pretraining and fine-tuning alike (`training.ssl.residual`), so
a backbone pretrained on residual clips is fine-tuned and tested on residual clips too.
"""

from __future__ import annotations

import torch

TIME_DIM = -3  # (C, T, H, W) and (B, C, T, H, W): time is third from the end in both


def residual_clip(clip: torch.Tensor, time_dim: int = TIME_DIM) -> torch.Tensor:
    """roll(clip, 1, time) - clip: out[t] = clip[t-1] - clip[t], out[0] = clip[T-1] - clip[0]."""
    return torch.roll(clip, 1, time_dim) - clip
