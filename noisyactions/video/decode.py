"""Read a whole video back into frames: the reference reader the tests and the world's checks trust."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def read_all_frames(path: Path) -> np.ndarray:
    """Every frame of the first video stream as (T, H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    if not frames:
        raise ValueError(f"{path}: no decodable video frames")
    return np.stack(frames)


def sample_frames(path: Path, count: int) -> np.ndarray:
    """`count` frames spread evenly over the video (for figures; decodes the file once, in order)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = stream.frames or 0
        if total <= 0:
            frames = read_all_frames(path)
            return frames[np.linspace(0, len(frames) - 1, count).round().astype(int)]
        wanted = set(np.linspace(0, total - 1, count).round().astype(int).tolist())
        picked = [frame.to_ndarray(format="rgb24") for k, frame in enumerate(container.decode(stream)) if k in wanted]
    if not picked:
        raise ValueError(f"{path}: no decodable video frames")
    while len(picked) < count:
        picked.append(picked[-1])
    return np.stack(picked[:count])
