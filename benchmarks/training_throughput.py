"""Training throughput (forward + backward + SGD step) in clips/s, for the supervised step and the PCL
pretraining step (a tuple of 3 clips through the backbone, pretext CE + memory-bank NCE, residual
clips as the paper's recipe; reported as clips/s = tuples x 3 / s and as tuples/s), for R3D-18 and
R(2+1)D-18, run the way the trainer runs it (noisyactions.training.step): uint8 clips normalised on the
device, the model and optimiser set up by training.precision and training.gpu.

On a GPU: the paper's scale, 16x112x112, width 1. The supervised step at batch 64 with config/paper.yaml's
settings (bf16 autocast, channels_last_3d, cuDNN autotuning, fused SGD), then one setting changed at a
time: fp16 with loss scaling, fp32 (TF32), contiguous memory, unfused SGD, torch.compile (skip with
--no-compile: minutes of compilation), batch 128; PCL at batch 16 and 64 tuples with the defaults,
K = 1024 negatives, a memory bank of 100,000 videos. Otherwise it says so and measures a small CPU
scale in fp32 (a CPU trains in fp32; the GPU settings do not apply): width 1/8, 16x32x32, batch 16
clips / 16 tuples, K = 1024, a bank of 100 videos. Inputs are random, memory-bank indices random in
range(videos): the model's cost alone (benchmarks/video_loading.py measures what feeds it).

Each supervised line also gives the step's FLOPs per clip (3x the forward pass, torch.utils.flop_counter)
and the achieved TFLOP/s; on a GPU the MFU against its dense peak (noisyactions.training.flops.PEAK_TFLOPS:
bf16/fp16 with autocast, TF32 without), or against --peak-tflops for a GPU not in the table or for the CPU.

    python benchmarks/training_throughput.py [--steps 10] [--peak-tflops T] [--no-compile]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noisyactions.config import load_config  # noqa: E402
from noisyactions.training.flops import model_flops_utilisation, peak_tflops, training_flops_per_clip  # noqa: E402
from noisyactions.training.models import VideoResNet18, parameter_count  # noqa: E402
from noisyactions.training.pcl import PCLLoss, PCLModel  # noqa: E402
from noisyactions.training.pretext import PRETEXT_TASKS  # noqa: E402
from noisyactions.training.step import backward_and_step, compiled, device_clips, move_to_device, sgd, step_precision  # noqa: E402

PAPER_CONFIG = Path(__file__).resolve().parents[1] / "config" / "paper.yaml"

TUPLE_LEN = 3


def rate(step: Callable[[], None], items: int, device: torch.device, steps: int) -> float:
    """items x steps / s over `steps` calls of `step`, after 3 warm-up calls."""
    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return items * steps / (time.perf_counter() - started)


def gpu_defaults() -> dict:
    """training.gpu as config/paper.yaml sets it: what a paper-scale run uses."""
    return load_config(PAPER_CONFIG)["training"]["gpu"]


# The supervised step's settings on a GPU: the defaults, then one thing changed at a time
# (label: (training.precision, changes to training.gpu, batch)).
GPU_VARIANTS = {
    "bf16 (the defaults)": ("bf16", {}, 64),
    "fp16, loss scaling": ("fp16", {}, 64),
    "fp32 (TF32)": ("fp32", {}, 64),
    "bf16, contiguous memory": ("bf16", {"channels_last_3d": False}, 64),
    "bf16, unfused SGD": ("bf16", {"fused_sgd": False}, 64),
    "bf16, torch.compile": ("bf16", {"compile": True}, 64),
    "bf16, batch 128": ("bf16", {}, 128),
}


def timed_step(model: torch.nn.Module, device: torch.device, precision_name: str, gpu: dict, loss_of: Callable) -> Callable[[torch.Tensor], None]:
    """A training step as the trainer runs it: `model` set up on the device, a uint8 batch normalised
    there, autocast and the scaler from `precision_name`, SGD from `gpu`."""
    channels_last = move_to_device(model, device, gpu)
    stepped, optimizer = compiled(model, device, gpu), sgd(model, 0.03, 0.0, device, gpu)
    precision = step_precision(precision_name, device)
    scaler = precision.scaler()

    def step(clips: torch.Tensor) -> None:
        with precision.autocast():
            loss = loss_of(stepped(device_clips(clips, device, channels_last)))
        backward_and_step(loss, optimizer, scaler)

    return step


def random_clips(shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
    return torch.randint(0, 256, shape, dtype=torch.uint8, device=device)


def supervised(kind: str, width: float, batch: int, frames: int, side: int, device: torch.device, precision: str, gpu: dict, steps: int) -> float:
    """Clips/s of the supervised step (400-way cross-entropy)."""
    torch.manual_seed(0)
    targets = torch.randint(0, 400, (batch,), device=device)
    step = timed_step(VideoResNet18(kind, 400, width), device, precision, gpu, lambda logits: torch.nn.functional.cross_entropy(logits.float(), targets))
    clips = random_clips((batch, 3, frames, side, side), device)
    return rate(lambda: step(clips), batch, device, steps)


def pcl(kind: str, width: float, batch: int, frames: int, side: int, device: torch.device, precision: str, gpu: dict, steps: int,
        videos: int, negatives: int) -> float:
    """Tuples/s of the PCL step (residual clips, pretext CE + 0.5 (L1 + L2) against a memory bank of `videos`)."""
    torch.manual_seed(0)
    criterion = PCLLoss(videos, negatives=negatives).to(device)
    labels = torch.randint(0, len(PRETEXT_TASKS), (batch,), device=device)
    index = torch.randperm(videos)[:batch].to(device)  # distinct videos, as a sampler gives
    step = timed_step(PCLModel(kind, width, TUPLE_LEN, residual=True), device, precision, gpu, lambda output: criterion(output, labels, index))
    tuples = random_clips((batch, TUPLE_LEN, 3, frames, side, side), device)
    return rate(lambda: step(tuples), batch, device, steps)


def utilisation(kind: str, width: float, frames: int, side: int, clips_per_s: float, peak: float | None) -> str:
    """', <GFLOPs>/clip, <TFLOP/s>[, MFU <%>]' for a supervised step rate."""
    flops = training_flops_per_clip(VideoResNet18(kind, 400, width), (3, frames, side, side))
    text = f", {flops / 1e9:.1f} GFLOPs/clip, {clips_per_s * flops / 1e12:.2f} TFLOP/s"
    return text + (f", MFU {model_flops_utilisation(clips_per_s, flops, peak):.1%} of {peak:g}" if peak else "")


def pcl_line(kind: str, scale: str, batch: int, tail: str, tuples_per_s: float) -> str:
    return (f"{kind:<9} PCL (residual), {scale}, batch {batch} tuples, {tail}: "
            f"{tuples_per_s * TUPLE_LEN:8.1f} clips/s ({tuples_per_s:.1f} tuples/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--peak-tflops", type=float, help="the device's peak, for MFU (default: the GPU's from the table)")
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile line (minutes of compilation per model)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, Python {platform.python_version()}, {torch.get_num_threads()} CPU threads")
    defaults = gpu_defaults()
    if torch.cuda.is_available():
        device = torch.device("cuda")
        print(f"GPU: {torch.cuda.get_device_name()}; training.gpu defaults: {defaults}")
        for kind in ("r3d", "r2plus1d"):
            params = parameter_count(VideoResNet18(kind, 400, 1.0))
            for label, (precision, changes, batch) in GPU_VARIANTS.items():
                if args.no_compile and changes.get("compile"):
                    continue
                clips_per_s = supervised(kind, 1.0, batch, 16, 112, device, precision, {**defaults, **changes}, args.steps)
                peak = args.peak_tflops or peak_tflops(torch.cuda.get_device_name(), mixed_precision=precision != "fp32")
                print(f"{kind:<9} width 1 ({params:,} params), 16x112x112, batch {batch:>3}, {label:<24}: "
                      f"{clips_per_s:8.1f} clips/s{utilisation(kind, 1.0, 16, 112, clips_per_s, peak)}")
            for batch in (16, 64):
                tuples_per_s = pcl(kind, 1.0, batch, 16, 112, device, "bf16", defaults, args.steps, 100_000, 1024)
                print(pcl_line(kind, "width 1, 16x112x112", batch, "bf16 (the defaults), K 1024, bank 100,000", tuples_per_s))
    else:
        print("no GPU here: the paper-scale figure needs one; CPU figures at the embedded default's scale follow")
        device = torch.device("cpu")
        for kind in ("r3d", "r2plus1d"):
            clips_per_s = supervised(kind, 0.125, 16, 16, 32, device, "fp32", defaults, args.steps)
            print(f"{kind:<9} width 1/8, 16x32x32, batch 16, CPU: {clips_per_s:8.1f} clips/s"
                  f"{utilisation(kind, 0.125, 16, 32, clips_per_s, args.peak_tflops)}")
            tuples_per_s = pcl(kind, 0.125, 16, 16, 32, device, "fp32", defaults, args.steps, 100, 1024)
            print(pcl_line(kind, "width 1/8, 16x32x32", 16, "K 1024, bank 100, CPU", tuples_per_s))


if __name__ == "__main__":
    main()
