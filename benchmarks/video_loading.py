"""Clips per second per core at 16x112x112: naive full decode vs seeking decode vs each cache format.

Sources at a realistic size (default 320x240, UCF101's and HMDB51's, 64 frames), rendered by the
embedded world's renderer and encoded as the world encodes its web videos (H.264 with world.video's
fps, GOP and crf), so nothing has to be built first. The caches hold them at the training short side
(video.short_side), as a paper-scale cache does, built by build_cache, whose index the readers use as
training does. One process, one torch thread, the training transform included (short side,
multi-scale crop, flip, normalise), clips drawn as in pretraining (video.clip_length,
video.max_skip) from the videos in a shuffled order; cache files are warm in the page cache. Each
pass over the videos starts with a fresh reader: in training a loader worker meets each file once an
epoch, among more files than its reader remembers (reader.TABLES_REMEMBERED) at paper scale, so
whatever a reader learns about a file is paid for once per clip here as in training: for the short-GOP H.264 cache, a frame table read from the file's packets unless the
cache index brings the file's timing (the two (d) rows, after and before that). Each path runs
--repeats times, each run at least --seconds and one clip per video.

The cache formats side by side (issue 15: a loader that keeps a GPU fed): (c) uint8 frames; (c') the
same with the float normalisation done per clip on the CPU, as before it moved to the training device
(transforms.normalise on the batch), to show what moving it saves the workers; (d) short-GOP H.264;
(e, f) a JPEG or WebP image per frame (image_frames.py); (g) (d) with 2 decode threads per reader;
(h) (d) decoded by TorchCodec, on its CUDA device (NVDEC) with the crop on the GPU when torchcodec
imports and a GPU is there, else its CPU decoder, else one line saying it was not measured (torchcodec
is not a dependency of the package: put it on PYTHONPATH to measure it).

Printed: the median, min and max clips/s/core, counted per CPU-second of this process (all its
threads), so that other jobs sharing the machine slow the wall clock but not the figure (the wall-clock
median is printed beside it: for (g) it is what two threads buy a single reader, for (h) on a GPU the
CPU figure leaves out what the GPU does); the median's ratio to the naive path's; the mean size per
video; and PSNR against the uint8 frames (c), over every frame of every video, for what a lossy cache
gives up. The median of several runs is what to quote.

Targets (issue 9): the frame cache >= 5x the naive loader and >= 300 clips/s/core. Issue 15: a format
that feeds an H200 (R3D-18: 1,600 clips/s at 40% MFU) from config/paper.yaml's 14 loader workers,
>= 114 clips/s/core.

`--sources` measures real videos instead (each at least 320x240): rendered frames compress better than
a camera's, so sizes and PSNR on them flatter the lossy formats.

    python benchmarks/video_loading.py [--videos 24] [--size 320x240] [--frames 64] [--repeats 5] [--json out.json]
    python benchmarks/video_loading.py --sources a.mp4 b.avi ...
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
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.atomic import atomic_write_text  # noqa: E402
from noisyactions.config import load_config  # noqa: E402
from noisyactions.video.cache import build_cache  # noqa: E402
from noisyactions.video.clips import training_clip  # noqa: E402
from noisyactions.video.decode import read_all_frames, scan_video  # noqa: E402
from noisyactions.video.encode import write_video  # noqa: E402
from noisyactions.video.frame_table import RegularTiming  # noqa: E402
from noisyactions.video.image_frames import QUALITY  # noqa: E402
from noisyactions.video.mapped_frames import map_frames  # noqa: E402
from noisyactions.video.probe import probe_video  # noqa: E402
from noisyactions.video.reader import ClipFailure, ClipReader, read_clip  # noqa: E402
from noisyactions.video.transforms import TrainTransform, normalise  # noqa: E402
from noisyactions.world.concepts import build_concepts  # noqa: E402
from noisyactions.world.render import render_frames, sample_appearance  # noqa: E402
from machine import machine_line  # noqa: E402 (benchmarks/ is on sys.path when a benchmark runs)

MIN_SIZE = (320, 240)
NAIVE = "(a) naive: decode the whole file"
SEEKING = "(b) seek to the clip, decode it"
FRAME_CACHE = "(c) cache, uint8 frames (.npy, memory-mapped)"
NORMALISE_ON_CPU = "(c') same, normalise on the CPU (before)"
VIDEO_CACHE = "(d) cache, short-GOP H.264, timing from the index"
VIDEO_CACHE_TABLES = "(d) same, frame table read from the file per clip"
JPEG_CACHE = f"(e) cache, JPEG per frame (quality {QUALITY['jpeg']})"
WEBP_CACHE = f"(f) cache, WebP per frame (quality {QUALITY['webp']})"
VIDEO_CACHE_THREADS = "(g) (d) with 2 decode threads"
TORCHCODEC = "(h) (d) decoded by TorchCodec"
# what the loader must keep up with: an H200 training R3D-18 at the 40% MFU, fed by config/paper.yaml's training.workers
CORES_PER_GPU, GPU_CLIPS_PER_SECOND = 14, 1_600


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


def given_sources(paths: list[Path]) -> list[Path]:
    """Real videos to measure on instead of rendered ones: each at least 320x240, like --size."""
    for path in paths:
        probe = probe_video(path)
        if probe.width < MIN_SIZE[0] or probe.height < MIN_SIZE[1]:
            sys.exit(f"--sources {path}: {probe.width}x{probe.height}, sources must be at least {MIN_SIZE[0]}x{MIN_SIZE[1]}")
    return paths


def clips_per_second(new_loader, paths, frames, transform, video: dict, seconds: float, seed: int) -> tuple[float, float]:
    """Draw clips over shuffled passes through the videos until `seconds` have passed, each pass with
    a loader `new_loader()` made for it (a reader that knows none of the files yet); clips per CPU-second of this
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
    if clip.is_cuda:
        torch.cuda.synchronize()  # the GPU's queued work belongs to the clips counted
        elapsed = time.perf_counter() - started
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
    indexes = {fmt: cached(sources, folder, fmt, video) for fmt in ("frames", "video", "jpeg", "webp")}
    files = {fmt: [Path(p) for p in index["cached"]] for fmt, index in indexes.items()}
    cached_videos, video_index = files["video"], indexes["video"]
    timings, counts = [RegularTiming(**timing) for timing in video_index["timing"]], list(video_index["frames"])
    paths = {NAIVE: sources, SEEKING: sources, FRAME_CACHE: files["frames"], NORMALISE_ON_CPU: files["frames"],
             VIDEO_CACHE: cached_videos, VIDEO_CACHE_TABLES: cached_videos, JPEG_CACHE: files["jpeg"], WEBP_CACHE: files["webp"],
             VIDEO_CACHE_THREADS: cached_videos}

    def fresh(read, threads: int = 1):
        """A maker of loaders, each reading through a reader of its own."""
        def new_loader():
            reader = ClipReader(threads)
            return lambda i, indices: read(reader, i, indices)
        return new_loader

    from_cache = lambda fmt: fresh(lambda reader, i, indices: read_clip(files[fmt][i], indices, reader))  # noqa: E731
    with_timing = lambda reader, i, indices: read_clip(cached_videos[i], indices, reader, timings[i].table(counts[i]))  # noqa: E731
    makers = {
        NAIVE: fresh(lambda reader, i, indices: read_all_frames(sources[i])[indices]),
        SEEKING: fresh(lambda reader, i, indices: reader.read(sources[i], indices)),
        FRAME_CACHE: from_cache("frames"),
        NORMALISE_ON_CPU: from_cache("frames"),
        VIDEO_CACHE: fresh(with_timing),
        VIDEO_CACHE_TABLES: fresh(lambda reader, i, indices: read_clip(cached_videos[i], indices, reader)),
        JPEG_CACHE: from_cache("jpeg"),
        WEBP_CACHE: from_cache("webp"),
        VIDEO_CACHE_THREADS: fresh(with_timing, threads=2),
    }
    sizes = {label: sum(p.stat().st_size for p in listed) / len(listed) for label, listed in paths.items()}
    return paths, makers, sizes


def torchcodec_path(videos: list[Path], transform: TrainTransform) -> tuple[str, object, object] | str:
    """(label, loader maker, transform) for reading the H.264 cache with TorchCodec: on its CUDA device
    (NVDEC) with the crop, flip and resize on the GPU too when there is one, else on its CPU decoder
    with the training transform; or why it is not measured."""
    try:
        from torchcodec.decoders import VideoDecoder
    except ImportError:
        return "torchcodec not installed: not measured"
    except (RuntimeError, OSError) as error:  # it imports, but its FFmpeg libraries do not load
        return f"torchcodec does not load ({str(error).splitlines()[0]}): not measured"
    device = "cuda" if torch.cuda.is_available() else "cpu"

    def new_loader():
        # A decoder per clip, as a reader per file: "approximate" seeks by the container's index (the
        # cache's files are regular, the index's timing says so) instead of scanning every packet first.
        def load(i, indices):
            frames = VideoDecoder(str(videos[i]), device=device, seek_mode="approximate", num_ffmpeg_threads=1).get_frames_at(indices.tolist()).data
            return frames if device == "cuda" else frames.permute(0, 2, 3, 1).numpy()  # (T, H, W, 3), as the readers give
        return load

    label = f"{TORCHCODEC} on {'CUDA (NVDEC), GPU crop' if device == 'cuda' else 'CPU'}"
    return label, new_loader, (device_transform(transform) if device == "cuda" else transform)


def device_transform(train: TrainTransform):
    """The training transform for (T, 3, H, W) uint8 frames already on the GPU: the same box, drawn the
    same way (TrainTransform.source_crop), cut, mirrored and resized there."""
    def apply(frames: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        (y, x, box_height, box_width), flip = train.source_crop(*frames.shape[-2:], rng)
        region = frames[:, :, y:y + box_height, x:x + box_width]
        region = region.flip(-1) if flip else region
        clip = F.interpolate(region.float(), size=(train.crop, train.crop), mode="bilinear", align_corners=False, antialias=max(box_height, box_width) > train.crop)
        return clip.round_().clamp_(0, 255).to(torch.uint8).permute(1, 0, 2, 3)
    return apply


def as_frames(data) -> np.ndarray:
    """What a loader gave, as (T, H, W, 3) uint8 on the CPU."""
    return data.permute(0, 2, 3, 1).cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)


def psnr_against(reference: list[Path], new_loader, counts: list[int]) -> float:
    """PSNR in dB of every frame of every video as the loader reads it, against the uint8 frames cache
    (the frames every cache format was made from); inf when identical."""
    load, squared, values = new_loader(), 0.0, 0
    for i, path in enumerate(reference):
        expected = np.asarray(map_frames(path), dtype=np.float64)
        got = as_frames(load(i, np.arange(counts[i]))).astype(np.float64)
        squared, values = squared + ((got - expected) ** 2).sum(), values + expected.size
    return float("inf") if squared == 0 else 10 * np.log10(255**2 / (squared / values))


SOFTWARE = f"Python {platform.python_version()}, torch {torch.__version__}, 1 torch thread"  # what this benchmark's figures depend on, for the machine line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"), help="video and world settings")
    parser.add_argument("--videos", type=int, default=24)
    parser.add_argument("--size", type=source_size, default=MIN_SIZE, help="source WIDTHxHEIGHT, at least 320x240")
    parser.add_argument("--frames", type=int, default=64, help="frames per source video")
    parser.add_argument("--sources", type=Path, nargs="+", help="real videos to measure instead of rendered ones (replaces --videos, --size, --frames)")
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
        sources = given_sources(args.sources) if args.sources else render_sources(Path(tmp), args.videos, args.size, args.frames, config["world"])
        frames = [scan_video(p).decoded for p in sources]
        described = (", ".join(f"{p.name} {probe_video(p).width}x{probe_video(p).height} {n} frames" for p, n in zip(sources, frames)) if args.sources
                     else f"{args.size[0]}x{args.size[1]}, {args.frames} frames, H.264 GOP {config['world']['video']['gop']}")
        paths, makers, sizes = loaders(sources, Path(tmp), video)
        transforms = {label: transform for label in makers}
        transforms[NORMALISE_ON_CPU] = lambda data, rng: normalise(transform(data, rng))
        torchcodec = torchcodec_path(paths[VIDEO_CACHE], transform)
        if isinstance(torchcodec, tuple):
            label, makers[label], transforms[label] = torchcodec
            paths[label], sizes[label] = paths[VIDEO_CACHE], sizes[VIDEO_CACHE]
        print(
            f"{len(sources)} sources {described}, {sizes[NAIVE] / 1024:.0f} KiB/video; clips {video['clip_length']}x{video['crop']}x{video['crop']} from short side "
            f"{video['short_side']}, max skip {video['max_skip']}; {args.repeats} runs of >= {args.seconds:g} s per path, a fresh reader per pass"
        )
        runs = {
            label: [clips_per_second(makers[label], paths[label], frames, transforms[label], video, args.seconds, seed) for seed in range(args.repeats)]
            for label in makers
        }
        # Against the uint8 frames every cache was made from; the rows reading the sources have nothing to compare with.
        psnr = {label: psnr_against(paths[FRAME_CACHE], makers[label], frames) for label in makers if label not in (NAIVE, SEEKING)}
    naive = statistics.median(cpu for cpu, _ in runs[NAIVE])
    width = max(48, *(len(label) for label in runs))
    print(f"{'clips per CPU-second (wall: per second)':<{width}} {'median':>8} {'min':>8} {'max':>8} {'x naive':>8} {'wall':>8} {'KiB/video':>10} {'PSNR dB':>8}")
    rows = {}
    for label, measured in runs.items():
        rates, wall = [cpu for cpu, _ in measured], statistics.median(wall for _, wall in measured)
        median = statistics.median(rates)
        quality = psnr.get(label)
        rows[label] = {
            "median": median, "min": min(rates), "max": max(rates), "ratio": median / naive, "runs": rates,
            "wall_median": wall, "wall_runs": [wall for _, wall in measured], "kib_per_video": sizes[label] / 1024,
            "psnr_db": quality if quality is not None and np.isfinite(quality) else None,  # None: lossless, or a source (nothing to compare)
        }
        shown = "-" if quality is None else "exact" if np.isinf(quality) else f"{quality:.1f}"
        print(f"{label:<{width}} {median:8.0f} {min(rates):8.0f} {max(rates):8.0f} {median / naive:7.1f}x {wall:8.0f} {sizes[label] / 1024:10.0f} {shown:>8}")
    if isinstance(torchcodec, str):
        print(torchcodec)
    cache = rows[FRAME_CACHE]
    met = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    print(f"targets: frame cache >= 5x naive: {met(cache['ratio'] >= 5)} ({cache['ratio']:.1f}x); >= 300 clips/s/core: {met(cache['median'] >= 300)} ({cache['median']:.0f})")
    needed = GPU_CLIPS_PER_SECOND / CORES_PER_GPU
    feeding = [label.split(" ", 1)[0] for label, row in rows.items() if row["median"] >= needed]
    print(f"paper scale, {GPU_CLIPS_PER_SECOND:,} clips/s from {CORES_PER_GPU} loader workers: >= {needed:.0f} clips/s/core: {', '.join(feeding) or 'none'}")
    if args.json:
        summary = {"machine": machine_line(SOFTWARE), "size": list(args.size), "frames": args.frames, "videos": args.videos, "repeats": args.repeats, "paths": rows}
        if args.sources:
            summary.update(size=None, frames=frames, videos=len(sources), sources=[str(p) for p in sources])
        if isinstance(torchcodec, str):
            summary["not_measured"] = torchcodec
        atomic_write_text(args.json, json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
