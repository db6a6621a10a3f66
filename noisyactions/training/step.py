"""One optimisation step and how a device runs it: mixed precision, memory layout, compilation.

Shared by the trainer and the throughput benchmark (which runs on GPU machines that lack the video
stack, so this imports torch and the clip transforms alone, nothing that decodes video). Mixed precision is for GPUs: bf16 autocast needs no loss scaling,
fp16 gets a gradient scaler. The rest (`training.gpu`) changes how fast a step runs, not what it
computes beyond rounding, so a checkpoint resumes across changes to it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch

from noisyactions.video.transforms import normalise

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": None}


@dataclass(frozen=True)
class StepPrecision:
    """The dtype a step's matrix work runs in under autocast (None: fp32 throughout) on `device_type`."""

    dtype: torch.dtype | None
    device_type: str

    def autocast(self) -> AbstractContextManager:
        return torch.autocast(self.device_type, dtype=self.dtype or torch.get_autocast_dtype(self.device_type), enabled=self.dtype is not None)

    def scaler(self) -> torch.amp.GradScaler | None:
        """fp16's gradients underflow without loss scaling; bf16 has fp32's range and needs none."""
        return torch.amp.GradScaler(self.device_type) if self.dtype == torch.float16 else None


def step_precision(name: str, device: torch.device) -> StepPrecision:
    """`training.precision` on a GPU; fp32 on a CPU, where autocast is slower than fp32 on most chips
    (the code path is tested there by building a StepPrecision directly)."""
    if name not in AUTOCAST_DTYPES:
        raise ValueError(f"training.precision {name!r}: expected one of {', '.join(AUTOCAST_DTYPES)}")
    return StepPrecision(AUTOCAST_DTYPES[name] if device.type == "cuda" else None, device.type)


def move_to_device(model: torch.nn.Module, device: torch.device, gpu: dict) -> bool:
    """`model` onto `device`; on a GPU in channels_last_3d memory (cuDNN's fast layout for 3D
    convolutions in half precision) when `gpu` says so, before DistributedDataParallel sees it.
    Returns whether it is channels-last, which its input should then be too (model_input)."""
    model.to(device)
    channels_last = device.type == "cuda" and bool(gpu["channels_last_3d"])
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = bool(gpu["cudnn_benchmark"])
    if channels_last:
        model.to(memory_format=torch.channels_last_3d)
    return channels_last


def compiled(module: torch.nn.Module, device: torch.device, gpu: dict) -> torch.nn.Module:
    """What the training steps call: `module` (the model, or its DistributedDataParallel wrapper),
    compiled on a GPU when `gpu` says so. A compiled module shares the model's parameters, so the
    model is what optimisers step and checkpoints save."""
    return torch.compile(module) if device.type == "cuda" and gpu["compile"] else module


def model_input(clips: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """A batch of clips in the layout the model's weights are in: a 5-D batch in channels_last_3d when
    they are (a PCL batch of tuples is 6-D; its model reshapes it). Done on the uint8 batch, before it
    becomes floats, whose element-wise passes keep the layout."""
    return clips.contiguous(memory_format=torch.channels_last_3d) if channels_last and clips.dim() == 5 else clips


def device_clips(clips: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """A uint8 batch from the loader as the model's float input on `device` (normalised there)."""
    return normalise(model_input(clips.to(device, non_blocking=True), channels_last))


def sgd(model: torch.nn.Module, lr: float, weight_decay: float, device: torch.device, gpu: dict) -> torch.optim.SGD:
    """The recipe's SGD (Nesterov momentum 0.9); one fused kernel for all parameters on a GPU when `gpu` says so."""
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay,
                           fused=bool(gpu["fused_sgd"]) and device.type == "cuda")


def load_sgd_state(optimizer: torch.optim.SGD, state: dict) -> None:
    """A checkpoint's optimiser state into `optimizer`, keeping how this run steps: load_state_dict would
    bring back the saved run's `fused` flag and its momentum buffers' memory layout, so a run resumed
    with other training.gpu settings (fused SGD, channels-last weights) would step as the old one did,
    or not at all (the fused kernel wants buffers laid out as their parameters)."""
    fused = [group["fused"] for group in optimizer.param_groups]
    optimizer.load_state_dict(state)
    for group, flag in zip(optimizer.param_groups, fused):
        group["fused"] = flag
        for parameter in group["params"]:
            buffer = optimizer.state.get(parameter, {}).get("momentum_buffer")
            if buffer is not None:
                optimizer.state[parameter]["momentum_buffer"] = torch.empty_like(parameter).copy_(buffer)


def backward_and_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler | None) -> None:
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        optimizer.step()
