"""A fine-tuning epoch end to end (cache -> loader workers -> step) against the pure step rate: is the
loader the bottleneck? The issue's bar is >= 90% of the pure rate on a UCF101-sized cache on a GPU.

Sources are rendered and cached as benchmarks/video_loading.py does (320x240 H.264, the embedded world's
renderer), in the cache format asked for, at the config's clip geometry (16x112x112 by default). The
epochs run the trainer's own pieces: ClipDataset, trainer.training_loader with --workers processes (one
loader for all epochs, as `fit` has), trainer.train_one_epoch with the step set up as `fit` sets it up
(training.precision, training.gpu), then trainer.evaluate over a test set of the same videos (every
window, batched across videos). The first epoch's wait for its first batch is the workers' start, which
every epoch paid when each had its own loader; later epochs' waits show what is left of it. The pure rate
is benchmarks/training_throughput.py's step on random uint8 clips at the same model, batch and settings.
On a CPU both run in fp32 on the same cores as the workers, so the ratio there says little about a GPU
node; the script prints it all the same, as a check that the path runs.

    python benchmarks/end_to_end_epoch.py [--videos 256] [--format video] [--workers 4] [--width 1] [--batch 64] [--epochs 2]
    # UCF101-sized: --videos 9537 (rendering and caching take a while; --keep DIR reuses them)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import platform
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.config import load_config  # noqa: E402
from noisyactions.training.models import VideoResNet18  # noqa: E402
from noisyactions.training.step import compiled, move_to_device, sgd, step_precision  # noqa: E402
from noisyactions.training.trainer import device_for_run, evaluate, train_one_epoch, training_loader  # noqa: E402
from noisyactions.video.dataset import ClipDataset  # noqa: E402
from machine import machine_line  # noqa: E402 (benchmarks/ is on sys.path when a benchmark runs)
from training_throughput import supervised  # noqa: E402
from video_loading import cached, render_sources, source_size  # noqa: E402

CLASSES = 101  # UCF101's


def cache_of(sources_dir: Path, videos: int, size: tuple[int, int], frames: int, fmt: str, config: dict) -> pd.DataFrame:
    """The rendered sources' cache index in `fmt`, with a class per video (built once per folder)."""
    index_path = sources_dir / f"index_{fmt}.parquet"
    if index_path.exists():
        return pd.read_parquet(index_path)
    existing = sorted(sources_dir.glob("source*.mp4"))
    sources = existing if len(existing) >= videos else render_sources(sources_dir, videos, size, frames, config["world"])
    index = cached(sources[:videos], sources_dir, fmt, config["video"])
    index = index.assign(target=[k % CLASSES for k in range(len(index))])
    index.to_parquet(index_path)
    return index


STEADY_FROM = 3  # batches before the steady-state rate's clock starts


class TimedBatches:
    """The loader's batches, noting when each is handed over and its clips: the epoch's rate from the first
    request, and a steady-state rate from batch STEADY_FROM on, without the workers' start."""

    def __init__(self, batches, started: float | None = None):
        """`started`: when the batches were first asked for, if before iterating them (the loader's start)."""
        self.batches, self.started, self.handed = batches, started, []

    def __iter__(self):
        self.started = self.started or time.perf_counter()
        for batch in self.batches:
            self.handed.append((time.perf_counter(), len(batch.get("target", []))))
            yield batch

    def first_wait(self) -> float:
        """Seconds from asking for the epoch's first batch to getting it."""
        return self.handed[0][0] - self.started

    def steady_rate(self, ended: float) -> float | None:
        if len(self.handed) <= STEADY_FROM + 1:
            return None
        clips = sum(count for _, count in self.handed[STEADY_FROM:])
        return clips / (ended - self.handed[STEADY_FROM][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"), help="video and world settings")
    parser.add_argument("--videos", type=int, default=256)
    parser.add_argument("--size", type=source_size, default=(320, 240))
    parser.add_argument("--frames", type=int, default=64, help="frames per source video")
    parser.add_argument("--format", default="video", help="video.cache.format")
    parser.add_argument("--workers", type=int, default=4, help="loader processes (training.workers)")
    parser.add_argument("--model", default="r3d", choices=("r3d", "r2plus1d"))
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--precision", choices=("bf16", "fp16", "fp32"), help="training.precision (default: the config's)")
    parser.add_argument("--steps", type=int, default=10, help="steps timed for the pure rate")
    parser.add_argument("--epochs", type=int, default=2, help="training epochs through one loader")
    parser.add_argument("--keep", type=Path, help="render and cache here, and reuse what an earlier run left")
    args = parser.parse_args()
    config = load_config(args.config)
    video = {**config["video"], "cache": {**config["video"]["cache"], "format": args.format}}
    gpu, device = config["training"]["gpu"], device_for_run()
    args.precision = args.precision or config["training"]["precision"]
    print(machine_line(f"Python {platform.python_version()}, torch {torch.__version__}, {torch.get_num_threads()} torch threads"))
    print(f"device: {torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU (fp32; GPU settings do not apply)'}; "
          f"{args.model} width {args.width:g}, batch {args.batch}, {video['clip_length']}x{video['crop']}x{video['crop']}, "
          f"training.precision {args.precision}, training.gpu {gpu}, {args.workers} loader workers")
    with contextlib.ExitStack() as stack:
        folder = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with contextlib.redirect_stderr(io.StringIO()):
            index = cache_of(folder, args.videos, args.size, args.frames, args.format, {**config, "video": video})
        print(f"{len(index)} videos {args.size[0]}x{args.size[1]}, {args.frames} frames, cached as {args.format!r} "
              f"({time.perf_counter() - started:.0f} s to render and cache, or reused)")
        pure = supervised(args.model, args.width, args.batch, video["clip_length"], video["crop"], device, args.precision, gpu, args.steps)
        torch.manual_seed(0)
        model = VideoResNet18(args.model, CLASSES, args.width)
        channels_last = move_to_device(model, device, gpu)
        stepped, optimizer = compiled(model, device, gpu), sgd(model, 0.03, 0.0, device, gpu)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
        precision = step_precision(args.precision, device)
        train_set = ClipDataset(index, CLASSES, video, train=True, max_skip=1)
        loader = training_loader(train_set, args.batch, args.workers, 0, range(args.epochs), device)
        criterion = lambda logits, target, _: F.cross_entropy(logits.float(), target)  # noqa: E731 (fine-tuning's loss)
        print(f"pure step rate (random uint8 clips on the device): {pure:8.1f} clips/s")
        asked = time.perf_counter()
        batches, scaler = iter(loader), precision.scaler()  # the workers start here
        for epoch in range(args.epochs):
            steps = loader.batch_sampler.steps(epoch)
            timed = TimedBatches(itertools.islice(batches, steps), asked if epoch == 0 else None)
            metrics = train_one_epoch(stepped, criterion, optimizer, scheduler, timed, device, precision, scaler, epoch, channels_last, steps)
            if device.type == "cuda":
                torch.cuda.synchronize()
            ended = time.perf_counter()
            rate = metrics["clips"] / (ended - timed.started)
            start = "the workers' start" if epoch == 0 else "the workers already running"
            print(f"end-to-end training epoch {epoch} ({metrics['steps']} steps), {start}: {rate:8.1f} clips/s = {rate / pure:.0%} of the pure rate "
                  f"(bar: 90%); {timed.first_wait():.2f} s waiting for its first batch")
            steady = timed.steady_rate(ended)
            if steady is not None:
                print(f"... from its {STEADY_FROM + 1}th batch on: {steady:8.1f} clips/s = {steady / pure:.0%}")
        del batches
        test_set = ClipDataset(index, CLASSES, video, train=False)
        started = time.perf_counter()
        result = evaluate(model, test_set, device, precision, args.workers, args.batch, channels_last)
        seconds = time.perf_counter() - started
        print(f"evaluation of {result['videos']} videos, every window ({video['test_clips']}), batches of {args.batch}: "
              f"{seconds:.1f} s, {result['videos'] / seconds:.1f} videos/s")


if __name__ == "__main__":
    main()
