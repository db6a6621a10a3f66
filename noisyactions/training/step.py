"""One optimisation step, with or without mixed precision: shared by the trainer and the throughput
benchmark (which runs on GPU machines that lack the video stack, so this imports torch alone)."""

from __future__ import annotations

import torch


def backward_and_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None) -> None:
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
