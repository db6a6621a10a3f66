"""Training throughput (forward + backward + SGD step) in clips/s, for the supervised step and the PCL
pretraining step (a tuple of 3 clips through the backbone, pretext CE + memory-bank NCE, residual
clips as the paper's recipe; reported as clips/s = tuples x 3 / s and as tuples/s), for R3D-18 and
R(2+1)D-18. On a GPU when one is here: the paper's scale, 16x112x112, width 1, supervised at batch 64
with and without mixed precision, PCL with mixed precision at batch 16 and 64 tuples, K = 1024
negatives, a memory bank of 100,000 videos. Otherwise it says so and measures a small CPU scale (the
embedded default's until 2026-11-30; it now trains 8x24x24 clips): width 1/8, 16x32x32, batch 16 clips / 16 tuples, K = 1024, a bank of 100 videos (the
embedded 25K split). Inputs are random tensors, memory-bank indices random in range(videos): the
model's cost alone (benchmarks/video_loading.py measures what feeds it).

Each supervised line also gives the step's FLOPs per clip (3x the forward pass, torch.utils.flop_counter)
and the achieved TFLOP/s; on a GPU the MFU against its dense peak (noisyactions.training.flops.PEAK_TFLOPS:
bf16/fp16 with AMP, TF32 without), or against --peak-tflops for a GPU not in the table or for the CPU.

    python benchmarks/training_throughput.py [--steps 10] [--peak-tflops T]
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

from noisyactions.training.flops import model_flops_utilisation, peak_tflops, training_flops_per_clip  # noqa: E402
from noisyactions.training.models import VideoResNet18, parameter_count  # noqa: E402
from noisyactions.training.pcl import PCLLoss, PCLModel  # noqa: E402
from noisyactions.training.pretext import PRETEXT_TASKS  # noqa: E402
from noisyactions.training.step import backward_and_step  # noqa: E402

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


def prepare(model: torch.nn.Module, device: torch.device, amp: bool):
    """The model on the device, its SGD optimiser and, with `amp`, a gradient scaler."""
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last_3d)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    return model, optimizer, torch.amp.GradScaler("cuda") if amp else None


def supervised(kind: str, width: float, batch: int, frames: int, side: int, device: torch.device, amp: bool, steps: int) -> float:
    """Clips/s of the supervised step (400-way cross-entropy)."""
    torch.manual_seed(0)
    model, optimizer, scaler = prepare(VideoResNet18(kind, 400, width), device, amp)
    clips = torch.randn(batch, 3, frames, side, side, device=device)
    targets = torch.randint(0, 400, (batch,), device=device)

    def step():
        with torch.autocast(device.type, enabled=amp):
            loss = torch.nn.functional.cross_entropy(model(clips), targets)
        backward_and_step(loss, optimizer, scaler)

    return rate(step, batch, device, steps)


def pcl(kind: str, width: float, batch: int, frames: int, side: int, device: torch.device, amp: bool, steps: int,
        videos: int, negatives: int) -> float:
    """Tuples/s of the PCL step (residual clips, pretext CE + 0.5 (L1 + L2) against a memory bank of `videos`)."""
    torch.manual_seed(0)
    model, optimizer, scaler = prepare(PCLModel(kind, width, TUPLE_LEN, residual=True), device, amp)
    criterion = PCLLoss(videos, negatives=negatives).to(device)
    tuples = torch.randn(batch, TUPLE_LEN, 3, frames, side, side, device=device)
    labels = torch.randint(0, len(PRETEXT_TASKS), (batch,), device=device)
    index = torch.randperm(videos)[:batch].to(device)  # distinct videos, as a sampler gives

    def step():
        with torch.autocast(device.type, enabled=amp):
            loss = criterion(model(tuples), labels, index)
        backward_and_step(loss, optimizer, scaler)

    return rate(step, batch, device, steps)


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
    args = parser.parse_args()
    print(f"torch {torch.__version__}, Python {platform.python_version()}, {torch.get_num_threads()} CPU threads")
    if torch.cuda.is_available():
        device = torch.device("cuda")
        torch.backends.cudnn.benchmark = True
        print(f"GPU: {torch.cuda.get_device_name()}")
        for kind in ("r3d", "r2plus1d"):
            params = parameter_count(VideoResNet18(kind, 400, 1.0))
            for amp in (True, False):
                clips_per_s = supervised(kind, 1.0, 64, 16, 112, device, amp, args.steps)
                peak = args.peak_tflops or peak_tflops(torch.cuda.get_device_name(), mixed_precision=amp)
                print(f"{kind:<9} width 1 ({params:,} params), 16x112x112, batch 64, AMP {'on ' if amp else 'off'}: "
                      f"{clips_per_s:8.1f} clips/s{utilisation(kind, 1.0, 16, 112, clips_per_s, peak)}")
            for batch in (16, 64):
                tuples_per_s = pcl(kind, 1.0, batch, 16, 112, device, True, args.steps, 100_000, 1024)
                print(pcl_line(kind, "width 1, 16x112x112", batch, "AMP on, K 1024, bank 100,000", tuples_per_s))
    else:
        print("no GPU here: the paper-scale figure needs one; CPU figures at the embedded default's scale follow")
        device = torch.device("cpu")
        for kind in ("r3d", "r2plus1d"):
            clips_per_s = supervised(kind, 0.125, 16, 16, 32, device, False, args.steps)
            print(f"{kind:<9} width 1/8, 16x32x32, batch 16, CPU: {clips_per_s:8.1f} clips/s"
                  f"{utilisation(kind, 0.125, 16, 32, clips_per_s, args.peak_tflops)}")
            tuples_per_s = pcl(kind, 0.125, 16, 16, 32, device, False, args.steps, 100, 1024)
            print(pcl_line(kind, "width 1/8, 16x32x32", 16, "K 1024, bank 100, CPU", tuples_per_s))


if __name__ == "__main__":
    main()
