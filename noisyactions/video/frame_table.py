"""Which timestamp is frame k: the map a seeking reader needs, read from the container's packets.

Frame k is the k-th frame the decoder hands out (decode.py). Timestamps stand in for that count only
when they are trustworthy, and often they are not: an MPEG-4 AVI with B-frames starts at timestamp 1
while its stream claims to start at 0, a variable-frame-rate file has no fixed step between frames, a
raw elementary stream has no timestamps at all, a damaged header repeats them, a truncated or
overwritten file holds fewer packets than its header promises. So the table is not computed from a
start time and a frame rate: frame k is the k-th smallest packet timestamp, and the table is refused
(None: decode from the start and count instead) unless every packet has a timestamp, no two share
one, the packets add up to the header's frame count, and the first frame that decodes is a keyframe
carrying the smallest timestamp. A reader still checks, frame by frame, that what it decodes follows the table.

Building a table costs a pass over the file's packets, and a loader worker meets each file once an
epoch, among more files than it remembers tables of at paper scale (reader.TABLES_REMEMBERED), so
that pass would come with nearly every clip. The cache
writes its videos itself (constant frame rate, a keyframe every `gop` frames), so their tables are
regular: `RegularTiming` is such a table in three numbers, checked against the written file's real
table when the cache writes it, kept in the cache index and rebuilt there without opening the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from noisyactions.video.decode import open_video


@dataclass(frozen=True)
class FrameTable:
    """Presentation timestamps of frames 0..n-1 (ascending), the frame numbers of the keyframes, and
    the timestamp to seek to for each keyframe: its decode timestamp when earlier (an AVI's index and
    an MP4's sample table are searched by decode time; seeking by a B-frame stream's presentation time
    lands on the next keyframe)."""

    pts: np.ndarray
    keyframes: np.ndarray
    seek_targets: np.ndarray
    number: dict[int, int] = field(init=False, repr=False, compare=False)  # timestamp -> frame number
    keyframe_set: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "number", {int(t): k for k, t in enumerate(self.pts)})
        object.__setattr__(self, "keyframe_set", frozenset(int(k) for k in self.keyframes))

    def __len__(self) -> int:
        return len(self.pts)

    def keyframe_before(self, index: int) -> tuple[int, int]:
        """(frame number, seek timestamp) of the last keyframe at or before frame `index`."""
        position = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        if position < 0:
            raise IndexError(f"no keyframe at or before frame {index}")
        return int(self.keyframes[position]), int(self.seek_targets[position])


def read_frame_table(path: Path) -> FrameTable | None:
    """The table from one pass over the packets (no decoding but the first frame), or None when the
    timestamps cannot be trusted to number the frames."""
    stamps, keys, discarded, first_pts = [], {}, 0, None
    with open_video(path) as (container, stream):
        for packet in container.demux(stream):
            if not packet.size:
                continue
            if first_pts is None:  # every packet up to the first frame out, discarded ones included (references)
                try:
                    first_pts = next((frame.pts for frame in packet.decode()), None)
                except av.error.FFmpegError:
                    return None
            if packet.is_discard:  # before an edit list's start: the decoder drops these frames
                discarded += 1
                continue
            if packet.pts is None:
                return None
            if packet.is_keyframe:
                keys[packet.pts] = packet.pts if packet.dts is None else min(packet.pts, packet.dts)
            stamps.append(packet.pts)
        header_frames = int(stream.frames or 0)
    pts = np.sort(np.asarray(stamps, dtype=np.int64))
    if not len(pts) or len(np.unique(pts)) != len(pts):
        return None
    if header_frames and header_frames != len(pts) + discarded:
        return None
    if first_pts is None or first_pts != pts[0] or pts[0] not in keys:
        return None
    key_pts = np.sort(np.asarray(list(keys), dtype=np.int64))
    return FrameTable(pts, np.searchsorted(pts, key_pts), np.asarray([keys[int(t)] for t in key_pts], dtype=np.int64))


def _same_table(a: FrameTable, b: FrameTable) -> bool:
    return all(np.array_equal(x, y) for x, y in ((a.pts, b.pts), (a.keyframes, b.keyframes), (a.seek_targets, b.seek_targets)))


@dataclass(frozen=True)
class RegularTiming:
    """A regular frame table: frame k at timestamp k x `step`, a keyframe every `keyframe_interval`
    frames from frame 0, each sought `seek_offset` from its timestamp (B-frames put a keyframe's decode
    time before its presentation time)."""

    step: int
    keyframe_interval: int
    seek_offset: int

    def __post_init__(self):
        for name, value in list(vars(self).items()):  # a parquet index hands them back as floats
            object.__setattr__(self, name, int(value))

    def table(self, frames: int) -> FrameTable:
        pts = np.arange(frames, dtype=np.int64) * self.step
        keyframes = np.arange(0, frames, self.keyframe_interval, dtype=np.int64)
        return FrameTable(pts, keyframes, pts[keyframes] + self.seek_offset)


def regular_timing(table: FrameTable | None) -> RegularTiming | None:
    """The three numbers that rebuild `table` exactly, or None when it is not regular (or not there)."""
    if table is None:
        return None
    step = int(table.pts[1] - table.pts[0]) if len(table) > 1 else 1
    interval = int(table.keyframes[1] - table.keyframes[0]) if len(table.keyframes) > 1 else len(table)
    timing = RegularTiming(step, interval, int(table.seek_targets[0] - table.pts[0]))
    return timing if step > 0 and _same_table(timing.table(len(table)), table) else None


def timing_table(timing: np.ndarray | None, frames: int) -> FrameTable | None:
    """The table of a cached video from its index row's (step, keyframe interval, seek offset), or None
    when the index has none (a step of 0: a frame cache, or a cache from before timings were kept)."""
    if timing is None or not timing[0]:
        return None
    return RegularTiming(*timing).table(frames)
