"""Clips per second per core at 16x112x112: naive full decode vs seeking decode vs the cache.

One process, one torch thread, the training transform included (resize, multi-scale crop, flip,
normalise), over the embedded world's web videos. Targets (issue 5): the cache >= 5x the naive
loader, and >= 300 clips/s/core.

    python benchmarks/video_loading.py [--videos 200] [--clips 400]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.config import load_config  # noqa: E402
from noisyactions.video.cache import cache_video, cached_name  # noqa: E402
from noisyactions.video.clips import training_clip  # noqa: E402
from noisyactions.video.decode import read_all_frames  # noqa: E402
from noisyactions.video.reader import ClipReader, frame_count, read_clip  # noqa: E402
from noisyactions.video.transforms import TrainTransform  # noqa: E402
from noisyactions.world.layout import WorldLayout  # noqa: E402


def rate(load, paths, frames, clips, transform, length, max_skip) -> float:
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    for k in range(clips):
        i = k % len(paths)
        clip = transform(load(paths[i], training_clip(frames[i], length, max_skip, rng)), rng)
    assert clip.shape[1] == length
    return clips / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--clips", type=int, default=400)
    args = parser.parse_args()
    os.chdir(REPO)
    torch.set_num_threads(1)
    config = load_config(args.config)
    video = config["video"]
    paths = sorted(WorldLayout(config["world"]["root"]).web_videos.glob("*.mp4"))[: args.videos]
    if not paths:
        sys.exit("no web videos: run `snakemake --cores 2 world` first")
    frames = [frame_count(p) for p in paths]
    transform = TrainTransform(video["short_side"], video["crop"])
    length, skip = video["clip_length"], video["max_skip"]
    reader = ClipReader(1)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, torch threads 1")
    print(f"{len(paths)} web videos of the embedded world, clips {length}x{video['crop']}x{video['crop']} (short side {video['short_side']})")
    results = {
        "(a) naive: decode the whole file": rate(lambda p, idx: read_all_frames(p)[idx], paths, frames, args.clips, transform, length, skip),
        "(b) seek to the clip, decode it": rate(lambda p, idx: reader.read(p, idx), paths, frames, args.clips, transform, length, skip),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("frames", "video"):
            cached = [Path(tmp) / cached_name(str(p), fmt) for p in paths]
            for source, target in zip(paths, cached):
                cache_video(source, target, video["cache"]["short_side"], fmt, video["cache"]["gop"])
            size = sum(p.stat().st_size for p in cached) / len(cached)
            label = f"(c) cache, {fmt}" + (" (.npy, mmap)" if fmt == "frames" else " (short-GOP H.264)")
            results[label] = rate(lambda p, idx: read_clip(p, idx, reader), cached, frames, args.clips, transform, length, skip)
            results[label + f", {size / 1024:.0f} KiB/video"] = results.pop(label)
    naive = results["(a) naive: decode the whole file"]
    for label, value in results.items():
        print(f"{label:<55} {value:8.0f} clips/s/core  ({value / naive:4.1f}x naive)")
    print("targets: cache >= 5x naive and >= 300 clips/s/core")


if __name__ == "__main__":
    main()
