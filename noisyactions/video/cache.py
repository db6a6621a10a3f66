"""The training-resolution cache: each video decoded once, resized to `short_side`, stored so that a
clip costs a slice instead of a decode.

Four formats, chosen by measurement (benchmarks/video_loading.py, README):
- `frames`: uint8 arrays (.npy, memory-mapped on read): fastest to read, largest on disk;
- `jpeg`, `webp`: every frame an image of its own, one file per video (image_frames.py): a clip
  decodes only its frames; on camera footage ~10x (JPEG) and ~13x (WebP) smaller than `frames`;
- `video`: H.264 re-encoded at training resolution with a short GOP: ~65x smaller, read by seeking,
  the slowest to read.

A video streams through: each frame is decoded, resized and written before the next is decoded, so
caching a few minutes of 1080p costs a few frames of memory, not gigabytes (benchmarks/cache_memory.py).
How much of it decoded (decode.py) goes into the index: `ok`; `partial`, with the frames that decoded
cached and the fraction they are of what the container claims (whether training uses them is
`video.cache.use_partial`, decided by the reader of the index); `undecodable`, with the reason and
nothing cached. Each video has that record where its file goes (`<file>.json`, written before the file
itself appears; alone for an undecodable one), so a resumed run knows the status of what an earlier
run cached or failed to, and decodes neither again. Only a broken video is recorded undecodable: a
full disk, a denied write or a bug in this code stops the run instead of condemning the video for good.

A `video` file's record also holds its `timing` (frame_table.RegularTiming), checked against the file
as written: readers seek in it without first reading its packets for a frame table.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from noisyactions.atomic import atomic_path, atomic_write_text
from noisyactions.video.decode import VIDEO_ERRORS, DecodeReport, VideoDecoder, error_text
from noisyactions.video.encode import VideoWriter
from noisyactions.video.frame_file import FrameFileWriter
from noisyactions.video.frame_table import RegularTiming, read_frame_table, regular_timing
from noisyactions.video.image_frames import SUFFIXES as IMAGE_SUFFIXES
from noisyactions.video.image_frames import ImageFrameWriter
from noisyactions.video.probe import UndecodableVideo

SUFFIX = {"frames": ".npy", "video": ".mp4", **IMAGE_SUFFIXES}


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


def _writer(path: Path, fmt: str, suffix: str, fps: int, gop: int) -> FrameFileWriter | ImageFrameWriter | VideoWriter:
    if fmt == "frames":
        return FrameFileWriter(path)
    if fmt in IMAGE_SUFFIXES:
        return ImageFrameWriter(path, fmt)
    return VideoWriter(path, suffix, fps, gop)


def record_path(target: Path) -> Path:
    """Where a cached file's decode record lives: beside it, `<file>.json`."""
    return target.with_name(target.name + ".json")


def index_columns(report: DecodeReport, timing: RegularTiming | None = None) -> dict:
    """A video's cache-index columns other than `cached`: its record."""
    return {"frames": report.decoded, "status": report.status, "decoded_fraction": report.fraction, "error": report.reason,
            "timing": asdict(timing) if timing else None}


def cache_video(source: Path, target: Path, short_side: int, fmt: str, gop: int = 8, fps: int = 8, threads: int = 1) -> dict:
    """Cache one video frame by frame; returns its record (index_columns). Raises UndecodableVideo
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
        timing = _written_timing(tmp, report.decoded) if fmt == "video" else None
        record = index_columns(report, timing)
        atomic_write_text(record_path(target), json.dumps(record) + "\n")
    return record


def _written_timing(path: Path, frames: int) -> RegularTiming | None:
    """The regular timing of a video the cache has just written, read back from its packets (so a
    reader trusting it trusts what is in the file), or None when it is not regular."""
    table = read_frame_table(path)
    return regular_timing(table) if table is not None and len(table) == frames else None


def cached_record(target: Path) -> dict | None:
    """The record an earlier run left for a video, or None when it has to be cached (again): no record
    (never tried, or cached before records were kept), or a cached file that is gone."""
    record = record_path(target)
    if not record.exists():
        return None
    columns = json.loads(record.read_text())
    columns["timing"] = columns.get("timing")  # records from before timings were kept have none
    return columns if columns["status"] == "undecodable" or target.exists() else None


def cached_name(path: str, fmt: str) -> str:
    """A stable file name per source path (two datasets may both hold v_X_g01_c01.avi)."""
    return hashlib.sha1(path.encode()).hexdigest()[:16] + SUFFIX[fmt]


def _cache_or_record_failure(source: Path, target: Path, short_side: int, fmt: str, gop: int) -> dict:
    """Cache a video, or record where its file would go why it cannot be, so that a resumed run skips
    it too; either way its record. Errors that are not the video's (OSError: a full disk, a denied
    write, PyAV's own included) are raised."""
    try:
        return cache_video(source, target, short_side, fmt, gop)
    except (UndecodableVideo, *VIDEO_ERRORS) as error:
        if isinstance(error, OSError):
            raise
        record = index_columns(DecodeReport(str(source), 0, None, error_text(error)))
        atomic_write_text(record_path(target), json.dumps(record) + "\n")
        return record


def build_cache(videos: pd.DataFrame, out_dir: Path, short_side: int, fmt: str, gop: int) -> pd.DataFrame:
    """Cache every video of an index; returns the index with `cached`, `frames`, `status`,
    `decoded_fraction`, `error` and `timing`. Partial videos are cached and recorded whatever
    `video.cache.use_partial` says: the index's readers decide whether to use them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in tqdm(videos["path"].tolist(), desc=f"cache {out_dir.name}", unit="video"):
        target = out_dir / cached_name(path, fmt)
        record = cached_record(target) or _cache_or_record_failure(Path(path), target, short_side, fmt, gop)
        rows.append({"cached": None if record["status"] == "undecodable" else str(target), **record})
    return videos.reset_index(drop=True).join(pd.DataFrame(rows))
