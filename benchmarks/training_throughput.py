"""Training throughput (forward + backward + SGD step) in clips/s: the paper's R3D-18 and R(2+1)D-18 at
16x112x112, batch 64, mixed precision, on a GPU when one is here; otherwise it says so and measures
the embedded default's CPU scale (width 1/8, 16x32x32, batch 16). Inputs are random tensors: the
model's cost alone (benchmarks/video_loading.py measures what feeds it).

    python benchmarks/training_throughput.py [--steps 10]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noisyactions.training.models import VideoResNet18, parameter_count  # noqa: E402
from noisyactions.training.step import backward_and_step  # noqa: E402


def measure(kind: str, width: float, batch: int, frames: int, side: int, device: torch.device, amp: bool, steps: int) -> float:
    torch.manual_seed(0)
    model = VideoResNet18(kind, 400, width).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last_3d)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, nesterov=True)
    scaler = torch.amp.GradScaler("cuda") if amp else None
    clips = torch.randn(batch, 3, frames, side, side, device=device)
    targets = torch.randint(0, 400, (batch,), device=device)

    def step():
        with torch.autocast(device.type, enabled=amp):
            loss = torch.nn.functional.cross_entropy(model(clips), targets)
        backward_and_step(loss, optimizer, scaler)

    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, Python {platform.python_version()}, {torch.get_num_threads()} CPU threads")
    if torch.cuda.is_available():
        device = torch.device("cuda")
        torch.backends.cudnn.benchmark = True
        print(f"GPU: {torch.cuda.get_device_name()}")
        for kind in ("r3d", "r2plus1d"):
            params = parameter_count(VideoResNet18(kind, 400, 1.0))
            for amp in (True, False):
                rate = measure(kind, 1.0, 64, 16, 112, device, amp, args.steps)
                print(f"{kind:<9} width 1 ({params:,} params), 16x112x112, batch 64, AMP {'on ' if amp else 'off'}: {rate:8.1f} clips/s")
    else:
        print("no GPU here: the paper-scale figure needs one; CPU figures at the embedded default's scale follow")
        device = torch.device("cpu")
        for kind in ("r3d", "r2plus1d"):
            rate = measure(kind, 0.125, 16, 16, 32, device, False, args.steps)
            print(f"{kind:<9} width 1/8, 16x32x32, batch 16, CPU: {rate:8.1f} clips/s")


if __name__ == "__main__":
    main()
