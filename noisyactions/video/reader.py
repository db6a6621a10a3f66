"""Decode only the frames a clip needs: seek to the keyframe before the clip, decode forward to its end.

A file that will not open or stops decoding part-way never raises out of `read`: the caller gets a
`ClipFailure` with the reason and decides (skip it in training, count it wrong at test), and either
way it is counted. The corruption experiment (Table 7) breaks files on purpose, so this is the norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True)
class ClipFailure:
    path: str
    reason: str


def frame_count(path: Path) -> int:
    """Frames in the first video stream: from the header when it says, else by counting packets."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.frames:
            return int(stream.frames)
        return sum(1 for packet in container.demux(stream) if packet.size)


class ClipReader:
    def __init__(self, threads: int = 1):
        self.threads = threads

    def read(self, path: Path, indices: np.ndarray) -> np.ndarray | ClipFailure:
        """Frames `indices` (sorted or not, repeats allowed) as (len, H, W, 3) uint8, or why not."""
        try:
            return self._read(Path(path), np.asarray(indices))
        except (av.error.FFmpegError, ValueError, IndexError, OSError, StopIteration, EOFError) as error:
            return ClipFailure(str(path), f"{type(error).__name__}: {error}")

    def _read(self, path: Path, indices: np.ndarray) -> np.ndarray:
        wanted = sorted(set(int(i) for i in indices))
        first, last = wanted[0], wanted[-1]
        frames: dict[int, np.ndarray] = {}
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO" if self.threads > 1 else "SLICE"
            stream.thread_count = self.threads
            rate = stream.average_rate or stream.guessed_rate
            start = stream.start_time or 0
            to_pts = lambda index: start + int(round(index / rate / stream.time_base))  # noqa: E731
            if first > 0:
                container.seek(to_pts(first), stream=stream, backward=True, any_frame=False)
            for frame in container.decode(stream):
                if frame.pts is None:
                    raise ValueError("a frame without a timestamp")
                index = int(round((frame.pts - start) * stream.time_base * rate))
                if index in wanted and index not in frames:
                    frames[index] = frame.to_ndarray(format="rgb24")
                if index >= last:
                    break
        missing = [i for i in wanted if i not in frames]
        if missing:
            raise ValueError(f"frames {missing[:3]}... did not decode ({len(frames)} of {len(wanted)} did)")
        return np.stack([frames[int(i)] for i in indices])


def read_clip(path: Path, indices: np.ndarray, reader: ClipReader) -> np.ndarray | ClipFailure:
    """From the frame cache (.npy, memory-mapped slice) or any video file (seeking decode)."""
    if str(path).endswith(".npy"):
        try:
            return np.asarray(np.load(path, mmap_mode="r")[np.asarray(indices)])
        except (OSError, ValueError, IndexError) as error:
            return ClipFailure(str(path), f"{type(error).__name__}: {error}")
    return reader.read(path, indices)
