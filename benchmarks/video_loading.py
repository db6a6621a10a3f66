"""Clips per second per core at 16x112x112: naive full decode vs seeking decode vs the cache.

Sources at a realistic size (default 320x240, UCF101's and HMDB51's, 64 frames), rendered by the
embedded world's renderer and encoded as the world encodes its web videos (H.264 with world.video's
fps, GOP and crf), so nothing has to be built first. The caches hold them at the training short side
(video.short_side), as a paper-scale cache does, built by build_cache, whose index the readers use as
training does. One process, one torch thread, the training transform included (short side,
multi-scale crop, flip, normalise), clips drawn as in pretraining (video.clip_length,
video.max_skip) from the videos in a shuffled order; cache files are warm in the page cache. Each
pass over the videos starts with a fresh reader, as each epoch's DataLoader workers do (they are
started again every epoch), so whatever a reader learns about a file is paid for once per clip here
as in training: for the short-GOP H.264 cache, a frame table read from the file's packets unless the
cache index brings the file's timing (the last two rows, after and before that). Each path runs
--repeats times, each run at least --seconds and one clip per video.
Printed: the median, min and max clips/s/core, counted per CPU-second of this process, so that other
jobs sharing the machine slow the wall clock but not the figure (the wall-clock median is printed
beside it); the median's ratio to the naive path's. The median of several runs is what to quote.

Targets (issue 9): the frame cache >= 5x the naive loader and >= 300 clips/s/core.

    python benchmarks/video_loading.py [--videos 24] [--size 320x240] [--frames 64] [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.atomic import atomic_write_text  # noqa: E402
from noisyactions.config import load_config  # noqa: E402
from noisyactions.video.cache import build_cache  # noqa: E402
from noisyactions.video.clips import training_clip  # noqa: E402
from noisyactions.video.decode import read_all_frames, scan_video  # noqa: E402
from noisyactions.video.encode import write_video  # noqa: E402
from noisyactions.video.frame_table import RegularTiming  # noqa: E402
from noisyactions.video.reader import ClipFailure, ClipReader, read_clip  # noqa: E402
from noisyactions.video.transforms import TrainTransform  # noqa: E402
from noisyactions.world.concepts import build_concepts  # noqa: E402
from noisyactions.world.render import render_frames, sample_appearance  # noqa: E402
from machine import machine_line  # noqa: E402 (benchmarks/ is on sys.path when a benchmark runs)

MIN_SIZE = (320, 240)
NAIVE = "(a) naive: decode the whole file"
SEEKING = "(b) seek to the clip, decode it"
FRAME_CACHE = "(c) cache, uint8 frames (.npy, memory-mapped)"
VIDEO_CACHE = "(d) cache, short-GOP H.264, timing from the index"
VIDEO_CACHE_TABLES = "(d) same, frame table read from the file per clip"


def source_size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT, at least 320x240: smaller sources make decoding cheap and the comparison moot."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 320x240") from None
    if width < MIN_SIZE[0] or height < MIN_SIZE[1] or width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"--size {text}: sources must be even-sided and at least {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    return width, height


def render_sources(out_dir: Path, count: int, size: tuple[int, int], frames: int, world: dict) -> list[Path]:
    """`count` web-style videos of the embedded world at `size`, encoded with world.video's settings."""
    concepts = build_concepts(world["concepts"])
    encoding = world["video"]
    paths = []
    for k in range(count):
        rng = np.random.default_rng([world["seed"], k])
        pixels = render_frames(concepts[k % len(concepts)], sample_appearance(rng, "web"), frames, size[1], size[0], rng)
        paths.append(out_dir / f"source{k:03d}.mp4")
        write_video(pixels, paths[-1], encoding["fps"], encoding["gop"], encoding["crf"])
    return paths


def clips_per_second(new_loader, paths, frames, transform, video: dict, seconds: float, seed: int) -> tuple[float, float]:
    """Draw clips over shuffled passes through the videos until `seconds` have passed, each pass with
    a loader `new_loader()` made for it (an epoch's fresh workers); clips per CPU-second of this
    process (per core: what other jobs on the machine take does not count) and per wall-clock second."""
    rng = np.random.default_rng(seed)
    clips, started, cpu_started = 0, time.perf_counter(), time.process_time()
    while True:
        load = new_loader()
        for i in rng.permutation(len(paths)):
            data = load(i, training_clip(frames[i], video["clip_length"], video["max_skip"], rng))
            if isinstance(data, ClipFailure):
                sys.exit(f"{data.path}: {data.reason}")
            clip = transform(data, rng)
            clips += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds:
            break
    cpu = time.process_time() - cpu_started
    if clip.shape != (3, video["clip_length"], video["crop"], video["crop"]):
        sys.exit(f"the transform made a {tuple(clip.shape)} clip")
    return clips / cpu, clips / elapsed


def cached(sources: list[Path], folder: Path, fmt: str, video: dict):
    """The sources cached in `fmt` as the workflow caches them: the cache index."""
    with contextlib.redirect_stderr(io.StringIO()):  # build_cache's progress bar would interleave with the figures
        index = build_cache(pd.DataFrame({"path": [str(p) for p in sources]}), folder / fmt, video["short_side"], fmt, video["cache"]["gop"])
    if (index["status"] != "ok").any():
        sys.exit(f"caching failed: {index.loc[index['status'] != 'ok', 'error'].iloc[0]}")
    return index


def loaders(sources: list[Path], folder: Path, video: dict) -> tuple[dict, dict, dict]:
    """Per path: the files read, a maker of a fresh loader (video position, frame indices -> frames),
    and the mean bytes per video."""
    frames_index, video_index = cached(sources, folder, "frames", video), cached(sources, folder, "video", video)
    cached_videos = [Path(p) for p in video_index["cached"]]
    timings, counts = [RegularTiming(**timing) for timing in video_index["timing"]], list(video_index["frames"])
    paths = {NAIVE: sources, SEEKING: sources, FRAME_CACHE: [Path(p) for p in frames_index["cached"]],
             VIDEO_CACHE: cached_videos, VIDEO_CACHE_TABLES: cached_videos}

    def fresh(read):
        """A maker of loaders, each reading through a reader of its own."""
        def new_loader():
            reader = ClipReader(1)
            return lambda i, indices: read(reader, i, indices)
        return new_loader

    makers = {
        NAIVE: fresh(lambda reader, i, indices: read_all_frames(sources[i])[indices]),
        SEEKING: fresh(lambda reader, i, indices: reader.read(sources[i], indices)),
        FRAME_CACHE: fresh(lambda reader, i, indices: read_clip(paths[FRAME_CACHE][i], indices, reader)),
        VIDEO_CACHE: fresh(lambda reader, i, indices: read_clip(cached_videos[i], indices, reader, timings[i].table(counts[i]))),
        VIDEO_CACHE_TABLES: fresh(lambda reader, i, indices: read_clip(cached_videos[i], indices, reader)),
    }
    sizes = {label: sum(p.stat().st_size for p in files) / len(files) for label, files in paths.items()}
    return paths, makers, sizes


SOFTWARE = f"Python {platform.python_version()}, torch {torch.__version__}, 1 torch thread"  # what this benchmark's figures depend on, for the machine line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"), help="video and world settings")
    parser.add_argument("--videos", type=int, default=24)
    parser.add_argument("--size", type=source_size, default=MIN_SIZE, help="source WIDTHxHEIGHT, at least 320x240")
    parser.add_argument("--frames", type=int, default=64, help="frames per source video")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="least time per run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_config(args.config)
    video = config["video"]
    transform = TrainTransform(video["short_side"], video["crop"])
    print(machine_line(SOFTWARE))
    with tempfile.TemporaryDirectory() as tmp:
        sources = render_sources(Path(tmp), args.videos, args.size, args.frames, config["world"])
        frames = [scan_video(p).decoded for p in sources]
        paths, makers, sizes = loaders(sources, Path(tmp), video)
        print(
            f"{args.videos} sources {args.size[0]}x{args.size[1]}, {args.frames} frames, H.264 GOP {config['world']['video']['gop']}, "
            f"{sizes[NAIVE] / 1024:.0f} KiB/video; clips {video['clip_length']}x{video['crop']}x{video['crop']} from short side "
            f"{video['short_side']}, max skip {video['max_skip']}; {args.repeats} runs of >= {args.seconds:g} s per path, a fresh reader per pass"
        )
        runs = {
            label: [clips_per_second(makers[label], paths[label], frames, transform, video, args.seconds, seed) for seed in range(args.repeats)]
            for label in makers
        }
    naive = statistics.median(cpu for cpu, _ in runs[NAIVE])
    print(f"{'clips per CPU-second (wall: per second)':<48} {'median':>8} {'min':>8} {'max':>8} {'x naive':>8} {'wall':>8} {'KiB/video':>10}")
    rows = {}
    for label, measured in runs.items():
        rates, wall = [cpu for cpu, _ in measured], statistics.median(wall for _, wall in measured)
        median = statistics.median(rates)
        rows[label] = {
            "median": median, "min": min(rates), "max": max(rates), "ratio": median / naive, "runs": rates,
            "wall_median": wall, "wall_runs": [wall for _, wall in measured], "kib_per_video": sizes[label] / 1024,
        }
        print(f"{label:<48} {median:8.0f} {min(rates):8.0f} {max(rates):8.0f} {median / naive:7.1f}x {wall:8.0f} {sizes[label] / 1024:10.0f}")
    cache = rows[FRAME_CACHE]
    met = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    print(f"targets: frame cache >= 5x naive: {met(cache['ratio'] >= 5)} ({cache['ratio']:.1f}x); >= 300 clips/s/core: {met(cache['median'] >= 300)} ({cache['median']:.0f})")
    if args.json:
        summary = {"machine": machine_line(SOFTWARE), "size": list(args.size), "frames": args.frames, "videos": args.videos, "repeats": args.repeats, "paths": rows}
        atomic_write_text(args.json, json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
