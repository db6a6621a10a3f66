"""The training-resolution cache: each video decoded once, resized to `short_side`, stored so that a
clip costs a slice instead of a decode.

Two formats, chosen by measurement (benchmarks/video_loading.py, README):
- `frames`: uint8 arrays (.npy, memory-mapped on read): fastest to read, largest on disk;
- `video`: H.264 re-encoded at training resolution with a short GOP: ~20x smaller, read by seeking.
A video that does not decode is recorded in the cache index with its reason, not cached.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm import tqdm

from noisyactions.atomic import atomic_path
from noisyactions.video.decode import read_all_frames
from noisyactions.video.encode import write_video
from noisyactions.video.reader import frame_count

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
    clip = resize_short_side(_to_float(frames), short_side)
    height, width = clip.shape[-2:]
    clip = clip[..., : height - height % 2, : width - width % 2]  # even sides for yuv420p
    return (clip.clamp_(0, 1) * 255).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def cache_video(source: Path, target: Path, short_side: int, fmt: str, gop: int = 8, fps: int = 8) -> int:
    """Cache one video; returns its frame count. Raises if the source does not decode."""
    frames = resize_frames(read_all_frames(source), short_side)
    if fmt == "frames":
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, frames)
    else:
        write_video(frames, target, fps, gop)
    return len(frames)


def cached_name(path: str, fmt: str) -> str:
    """A stable file name per source path (two datasets may both hold v_X_g01_c01.avi)."""
    return hashlib.sha1(path.encode()).hexdigest()[:16] + SUFFIX[fmt]


def build_cache(videos: pd.DataFrame, out_dir: Path, short_side: int, fmt: str, gop: int) -> pd.DataFrame:
    """Cache every video of an index; returns the index with `cached`, `frames`, `status`, `error`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in tqdm(videos["path"].tolist(), desc=f"cache {out_dir.name}", unit="video"):
        target = out_dir / cached_name(path, fmt)
        try:
            if not target.exists():  # written atomically: an existing file is complete, resume keeps it
                count = cache_video(Path(path), target, short_side, fmt, gop)
            else:
                count = len(np.load(target, mmap_mode="r")) if fmt == "frames" else frame_count(target)
            rows.append({"cached": str(target), "frames": count, "status": "ok", "error": ""})
        except Exception as error:  # noqa: BLE001 (a broken source video is recorded, not fatal)
            rows.append({"cached": None, "frames": 0, "status": "undecodable", "error": f"{type(error).__name__}: {error}"})
    return videos.reset_index(drop=True).join(pd.DataFrame(rows))
