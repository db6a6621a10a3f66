"""Decode only the frames a clip needs: seek to the keyframe before the clip, decode forward to its end.

Frame k is the k-th frame the decoder hands out, as in the cache and every other reader (decode.py).
Seeking finds it through the file's frame table (frame_table.py) and checks every decoded frame
against it; a file whose timestamps cannot be trusted, or that strays from its table while decoding,
is read from the start instead, counting frames. Slower, never wrong. Building a table is a pass over
the file's packets, so a reader remembers the tables it built; a cached video's table comes with the
cache index instead (frame_table.RegularTiming), and the caller hands it over.

A file that will not open or stops decoding part-way never raises out of `read`: the caller gets a
`ClipFailure` with the reason and decides (skip it in training, count it wrong at test), and either
way it is counted. The corruption experiment (Table 7) breaks files on purpose, so this is the norm.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from noisyactions.video.decode import VIDEO_ERRORS, VideoDecoder, decode_packets, error_text, numbered_frames, open_video
from noisyactions.video.frame_table import FrameTable, read_frame_table
from noisyactions.video.image_frames import image_frame_count, is_image_frames, read_image_frames
from noisyactions.video.mapped_frames import map_frames, select_frames

TABLES_REMEMBERED = 1024  # per reader (one per loader worker): a few KB each

# What reading clips out of a broken, missing or odd file raises: a broken video's errors, a frame the
# video does not have, a file that is not there. Every reader turns them into a ClipFailure.
READ_ERRORS = (*VIDEO_ERRORS, IndexError, OSError, StopIteration)


@dataclass(frozen=True)
class ClipFailure:
    path: str
    reason: str

    @classmethod
    def of(cls, path, error: BaseException) -> ClipFailure:
        return cls(str(path), error_text(error))


class _StrayedFromTable(Exception):
    """The decoded frames do not follow the frame table: number them by counting instead."""


class ClipReader:
    def __init__(self, threads: int = 1):
        self.threads = threads
        self._tables: OrderedDict[tuple, FrameTable | None] = OrderedDict()

    def read(self, path: Path, indices: np.ndarray, seek: bool = True, table: FrameTable | None = None) -> np.ndarray | ClipFailure:
        """Frames `indices` (sorted or not, repeats allowed) as (len, H, W, 3) uint8, or why not.
        `seek=False` decodes from the start: for a file known to be damaged, whose timestamps say
        nothing about which frames were lost. `table`: the file's frame table when the caller knows it
        (a cached video's, from the cache index), saving the pass over its packets that builds one."""
        try:
            return self._read(Path(path), np.asarray(indices), seek, table)
        except READ_ERRORS as error:
            return ClipFailure.of(path, error)

    def _read(self, path: Path, indices: np.ndarray, seek: bool, known: FrameTable | None) -> np.ndarray:
        wanted = sorted(set(int(i) for i in indices))
        if wanted[0] < 0:
            raise IndexError(f"{path}: negative frame index {wanted[0]}")
        frames = self._read_seeking_if_sound(path, wanted, known) if seek else None
        if frames is None:
            frames = self._read_counting(path, wanted)
        return np.stack([frames[int(i)] for i in indices])

    def _read_seeking_if_sound(self, path: Path, wanted: list[int], known: FrameTable | None) -> dict[int, np.ndarray] | None:
        """The frames by seeking, or None when the file's timestamps cannot be trusted to find them."""
        table = known if known is not None else self._table(path)
        if table is None:
            return None
        try:
            return self._read_seeking(path, table, wanted)
        except _StrayedFromTable:
            if known is None:
                self._tables[self._table_key(path)] = None  # this file is read from the start from now on
            return None

    @staticmethod
    def _table_key(path: Path) -> tuple:
        stat = os.stat(path)
        return str(path), stat.st_size, stat.st_mtime_ns

    def _table(self, path: Path) -> FrameTable | None:
        key = self._table_key(path)
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
        decoded = numbered_frames(VideoDecoder(path, self.threads), set(wanted), wanted[-1])
        return {number: frame.to_ndarray(format="rgb24") for number, frame in decoded}


def is_frame_store(path) -> bool:
    """A cache file of frames read by number (uint8 .npy, or JPEG/WebP images), not a video to decode."""
    return str(path).endswith(".npy") or is_image_frames(path)


def stored_frames(path: Path) -> int:
    """How many frames a frame store holds; raises what READ_ERRORS names for a broken one."""
    return len(map_frames(path)) if str(path).endswith(".npy") else image_frame_count(path)


def read_clip(path: Path, indices: np.ndarray, reader: ClipReader, table: FrameTable | None = None) -> np.ndarray | ClipFailure:
    """From a frame store (.npy: a memory-mapped slice; JPEG/WebP: those frames decoded) or any video
    file (seeking decode, through `table` when the caller knows it)."""
    if not is_frame_store(path):
        return reader.read(path, indices, table=table)
    try:
        if is_image_frames(path):
            return read_image_frames(path, indices)
        return select_frames(map_frames(path), indices)  # a view of the map: the crop copies what it keeps
    except READ_ERRORS as error:
        return ClipFailure.of(path, error)
