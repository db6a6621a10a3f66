"""The training-resolution cache: each video decoded once, resized to `short_side`, stored so that a
clip costs a slice instead of a decode.

Two formats, chosen by measurement (benchmarks/video_loading.py, README):
- `frames`: uint8 arrays (.npy, memory-mapped on read): fastest to read, largest on disk;
- `video`: H.264 re-encoded at training resolution with a short GOP: ~20x smaller, read by seeking.

A video streams through: each frame is decoded, resized and written before the next is decoded, so
caching a few minutes of 1080p costs a few frames of memory, not gigabytes (benchmarks/cache_memory.py).
How much of it decoded (decode.py) goes into the index: `ok`; `partial`, with the frames that decoded
cached and the fraction they are of what the container claims (whether training uses them is
`video.cache.use_partial`, decided by the reader of the index); `undecodable`, with the reason and
nothing cached. Each cached file has that record beside it (`<file>.json`, written before the file
itself appears), so a resumed run knows the status of what an earlier run cached.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from noisyactions.atomic import atomic_path, atomic_write_text
from noisyactions.video.decode import DecodeReport, VideoDecoder
from noisyactions.video.encode import VideoWriter
from noisyactions.video.frame_file import FrameFileWriter
from noisyactions.video.probe import UndecodableVideo

SUFFIX = {"frames": ".npy", "video": ".mp4"}


def _to_float(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (T, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float().div_(255.0)


def resize_short_side(clip: torch.Tensor, short_side: int) -> torch.Tensor:
    height, width = clip.shape[-2:]
    scale = short_side / min(height, width)
    size = (max(short_side, round(height * scale)), max(short_side, round(width * scale)))
    if size == (height, width):
        return clip
    return F.interpolate(clip, size=size, mode="bilinear", align_corners=False, antialias=scale < 1)


def resize_frames(frames: np.ndarray, short_side: int) -> np.ndarray:
    height, width = frames.shape[1:3]
    if min(height, width) == short_side and not height % 2 and not width % 2:
        return frames  # already the size: the float round trip would give the same pixels back
    clip = resize_short_side(_to_float(frames), short_side)
    height, width = clip.shape[-2:]
    clip = clip[..., : height - height % 2, : width - width % 2]  # even sides for yuv420p
    return (clip.clamp_(0, 1) * 255).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _writer(path: Path, fmt: str, suffix: str, fps: int, gop: int) -> FrameFileWriter | VideoWriter:
    return FrameFileWriter(path) if fmt == "frames" else VideoWriter(path, suffix, fps, gop)


def record_path(target: Path) -> Path:
    """Where a cached file's decode record lives: beside it, `<file>.json`."""
    return target.with_name(target.name + ".json")


def index_columns(report: DecodeReport) -> dict:
    """A video's cache-index columns other than `cached`."""
    return {"frames": report.decoded, "status": report.status, "decoded_fraction": report.fraction, "error": report.reason}


def cache_video(source: Path, target: Path, short_side: int, fmt: str, gop: int = 8, fps: int = 8, threads: int = 1) -> DecodeReport:
    """Cache one video frame by frame; returns how completely it decoded. Raises UndecodableVideo
    (and writes nothing) when no frame decodes."""
    target = Path(target)
    decoder = VideoDecoder(source, threads)
    with atomic_path(target) as tmp:
        with closing(_writer(tmp, fmt, target.suffix, fps, gop)) as writer:
            for frame in decoder.frames():
                writer.write(resize_frames(frame.to_ndarray(format="rgb24")[None], short_side)[0])
        report = decoder.report
        if report.status == "undecodable":
            raise UndecodableVideo(f"{source}: {report.reason}")
        atomic_write_text(record_path(target), json.dumps(index_columns(report)) + "\n")
    return report


def cached_record(target: Path) -> dict | None:
    """The index columns of a video an earlier run cached, or None when it has to be cached (again):
    no file, or a file from before records were kept, whose status nobody checked."""
    record = record_path(target)
    if not target.exists() or not record.exists():
        return None
    return json.loads(record.read_text())


def cached_name(path: str, fmt: str) -> str:
    """A stable file name per source path (two datasets may both hold v_X_g01_c01.avi)."""
    return hashlib.sha1(path.encode()).hexdigest()[:16] + SUFFIX[fmt]


def build_cache(videos: pd.DataFrame, out_dir: Path, short_side: int, fmt: str, gop: int) -> pd.DataFrame:
    """Cache every video of an index; returns the index with `cached`, `frames`, `status`,
    `decoded_fraction` and `error`. Partial videos are cached and recorded whatever
    `video.cache.use_partial` says: the index's readers decide whether to use them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in tqdm(videos["path"].tolist(), desc=f"cache {out_dir.name}", unit="video"):
        target = out_dir / cached_name(path, fmt)
        record = cached_record(target)  # written atomically before the file: an existing pair is complete
        if record is None:
            try:
                record = index_columns(cache_video(Path(path), target, short_side, fmt, gop))
            except Exception as error:  # noqa: BLE001 (a broken source video is recorded, not fatal)
                rows.append({"cached": None, "frames": 0, "status": "undecodable", "decoded_fraction": 0.0, "error": f"{type(error).__name__}: {error}"})
                continue
        rows.append({"cached": str(target), **record})
    return videos.reset_index(drop=True).join(pd.DataFrame(rows))
