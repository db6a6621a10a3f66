"""Decode only the frames a clip needs: seek to the keyframe before the clip, decode forward to its end.

Frame k is the k-th frame the decoder hands out, as in the cache and every other reader (decode.py).
Seeking finds it through the file's frame table (frame_table.py) and checks every decoded frame
against it; a file whose timestamps cannot be trusted, or that strays from its table while decoding,
is read from the start instead, counting frames. Slower, never wrong.

A file that will not open or stops decoding part-way never raises out of `read`: the caller gets a
`ClipFailure` with the reason and decides (skip it in training, count it wrong at test), and either
way it is counted. The corruption experiment (Table 7) breaks files on purpose, so this is the norm.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from noisyactions.video.decode import VideoDecoder, decode_packets, open_video, scan_video
from noisyactions.video.frame_table import FrameTable, read_frame_table
from noisyactions.video.mapped_frames import map_frames, select_frames

TABLES_REMEMBERED = 1024  # per reader (one per loader worker): a few KB each


@dataclass(frozen=True)
class ClipFailure:
    path: str
    reason: str


def frame_count(path: Path) -> int:
    """Frames of the first video stream that decode (decode.py: the count the cache records)."""
    return scan_video(path).decoded


class _StrayedFromTable(Exception):
    """The decoded frames do not follow the frame table: number them by counting instead."""


class ClipReader:
    def __init__(self, threads: int = 1):
        self.threads = threads
        self._tables: OrderedDict[tuple, FrameTable | None] = OrderedDict()

    def read(self, path: Path, indices: np.ndarray, seek: bool = True) -> np.ndarray | ClipFailure:
        """Frames `indices` (sorted or not, repeats allowed) as (len, H, W, 3) uint8, or why not.
        `seek=False` decodes from the start: for a file known to be damaged, whose timestamps say
        nothing about which frames were lost."""
        try:
            return self._read(Path(path), np.asarray(indices), seek)
        except (av.error.FFmpegError, ValueError, IndexError, OSError, StopIteration, EOFError) as error:
            return ClipFailure(str(path), f"{type(error).__name__}: {error}")

    def _read(self, path: Path, indices: np.ndarray, seek: bool) -> np.ndarray:
        wanted = sorted(set(int(i) for i in indices))
        if wanted[0] < 0:
            raise IndexError(f"{path}: negative frame index {wanted[0]}")
        key = self._table_key(path)
        table = self._table(path, key) if seek else None
        frames = None
        if table is not None:
            try:
                frames = self._read_seeking(path, table, wanted)
            except _StrayedFromTable:
                self._tables[key] = None  # this file is read from the start from now on
        if frames is None:
            frames = self._read_counting(path, wanted)
        return np.stack([frames[int(i)] for i in indices])

    @staticmethod
    def _table_key(path: Path) -> tuple:
        stat = os.stat(path)
        return str(path), stat.st_size, stat.st_mtime_ns

    def _table(self, path: Path, key: tuple) -> FrameTable | None:
        if key not in self._tables:
            self._tables[key] = read_frame_table(path)
            if len(self._tables) > TABLES_REMEMBERED:
                self._tables.popitem(last=False)
        self._tables.move_to_end(key)
        return self._tables[key]

    def _read_seeking(self, path: Path, table: FrameTable, wanted: list[int]) -> dict[int, np.ndarray]:
        """Seek to the keyframe before the clip and decode to its end, checking that every decoded frame
        is the next one of the table."""
        first, last = wanted[0], wanted[-1]
        if last >= len(table):
            raise IndexError(f"{path}: frame {last} asked of a video of {len(table)} frames")
        keyframe, seek_to = table.keyframe_before(first)
        frames: dict[int, np.ndarray] = {}
        wanted_set, errors = set(wanted), []
        with open_video(path, self.threads) as (container, stream):
            if keyframe > 0:
                container.seek(seek_to, stream=stream, backward=True, any_frame=False)
            number = None
            for frame in decode_packets(container, stream, errors):
                found = table.number.get(frame.pts)
                # Decoding starts at a keyframe at or before the clip, then every frame is the next one.
                follows = found == number + 1 if number is not None else found in table.keyframe_set and found <= first
                if found is None or not follows:
                    raise _StrayedFromTable(f"{path}: frame with timestamp {frame.pts} after frame {number}")
                number = found
                if number in wanted_set:
                    frames[number] = frame.to_ndarray(format="rgb24")
                if number >= last:
                    return frames
        raise _StrayedFromTable(f"{path}: decoding ended at frame {number} before frame {last}")

    def _read_counting(self, path: Path, wanted: list[int]) -> dict[int, np.ndarray]:
        """Decode from the start, numbering frames as they come: right whatever the timestamps say."""
        frames: dict[int, np.ndarray] = {}
        wanted_set, last = set(wanted), wanted[-1]
        decoder = VideoDecoder(path, self.threads)
        for number, frame in enumerate(decoder.frames()):
            if number in wanted_set:
                frames[number] = frame.to_ndarray(format="rgb24")
            if number >= last:
                return frames
        report = decoder.report
        raise IndexError(f"{path}: frame {last} asked of a video of which {report.decoded} frames decode" + (f" ({report.error})" if report.error else ""))


def read_clip(path: Path, indices: np.ndarray, reader: ClipReader) -> np.ndarray | ClipFailure:
    """From the frame cache (.npy, memory-mapped slice) or any video file (seeking decode)."""
    if str(path).endswith(".npy"):
        try:
            return select_frames(map_frames(path), indices)  # a view of the map: the crop copies what it keeps
        except (OSError, ValueError, IndexError) as error:
            return ClipFailure(str(path), f"{type(error).__name__}: {error}")
    return reader.read(path, indices)
