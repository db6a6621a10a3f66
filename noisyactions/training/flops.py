"""Model FLOPs utilisation (MFU): the share of a GPU's peak that a training step turns into useful work.

FLOPs are counted by torch.utils.flop_counter (two per multiply-add, as vendors count their peaks) on the
forward pass; a training step counts as three forward passes (the backward pass computes gradients for
both activations and weights), the usual convention, so MFU compares across code and hardware: a faster
kernel raises it, recomputation or padding does not. The counted pass runs on a meta-device copy of the
model, which holds no data and computes nothing.
"""

from __future__ import annotations

import copy

import torch
from torch.utils.flop_counter import FlopCounterMode

TRAINING_STEP_FORWARDS = 3

# Dense tensor-core peaks per GPU in TFLOP/s, from the vendors' data sheets (the sparsity figures halved):
# (bf16/fp16, what fp32 convolutions run at: TF32 where cuDNN uses it, plain fp32 on V100). More specific
# names first: the first name found in torch.cuda.get_device_name() wins.
PEAK_TFLOPS: dict[str, tuple[float, float]] = {
    "H200": (989.4, 494.7),
    "H100 PCIe": (756.0, 378.0),
    "H100": (989.4, 494.7),
    "A100": (312.0, 156.0),
    "L40S": (362.1, 183.0),
    "L4": (121.0, 60.0),
    "A10": (125.0, 62.5),
    "V100": (125.0, 15.7),
}


def forward_flops(model: torch.nn.Module, input_shape: tuple[int, ...]) -> int:
    """FLOPs of one forward pass of `model` on an input of `input_shape`, counted on a meta-device copy."""
    meta = copy.deepcopy(model).to("meta").eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        meta(torch.empty(input_shape, device="meta"))
    return counter.get_total_flops()


def training_flops_per_clip(model: torch.nn.Module, clip_shape: tuple[int, ...]) -> float:
    """FLOPs one training step spends per clip of `clip_shape` (channels, frames, height, width)."""
    return TRAINING_STEP_FORWARDS * forward_flops(model, (1, *clip_shape))


def peak_tflops(device_name: str, mixed_precision: bool) -> float | None:
    """The dense peak of a known GPU for bf16/fp16 (`mixed_precision`) or fp32 work; None if unknown."""
    for name, (half, single) in PEAK_TFLOPS.items():
        if name in device_name:
            return half if mixed_precision else single
    return None


def model_flops_utilisation(clips_per_second: float, flops_per_clip: float, peak: float) -> float:
    """The share of `peak` TFLOP/s that `clips_per_second` training clips of `flops_per_clip` use."""
    return clips_per_second * flops_per_clip / (peak * 1e12)
