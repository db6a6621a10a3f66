"""Decode videos front to back.

`VideoDecoder` is the one place that decides how much of a video decodes: the cache, the frame count
of a source file and the uncached test pass all go through it, so they agree on which frames exist
(frame k is the k-th frame the decoder hands out) and on which videos are `ok`, `partial` or
`undecodable`. A packet that fails to decode is skipped, not fatal: a damaged stretch of a video costs
its frames, not the rest of the file. Completeness is judged against what the container claims (its
frame count, else duration x frame rate), because a truncated or overwritten file decodes cleanly up to
where its data stops and raises nothing.

Whether a video with a given status is read at all is decided here too (`usable`), for training,
testing and the cache index's readers alike.

`read_all_frames` holds a whole video in memory: for tests, checks and short videos only.
"""

from __future__ import annotations

from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

# A video is complete when at most this share of the frames its container claims (and at least one
# frame) is missing: edit lists, rounded durations and trailing empty packets make honest files come
# up a frame or so short of their header.
MISSING_FRAMES_TOLERATED = 0.01

# What a damaged or odd video raises on its way out of the decoder: PyAV failing on a packet or a
# frame's conversion, frames of two sizes where one array needs one. Not OSError as such: a missing
# file is the reader's business (reader.READ_ERRORS), a full disk or a denied write is nobody's video's
# fault (PyAV's errors for those subclass OSError too, and the cache lets them stop the run).
VIDEO_ERRORS = (av.error.FFmpegError, ValueError, EOFError)


def error_text(error: BaseException) -> str:
    """How an error reads in a failure, a decode report and the cache index: its type and message."""
    return f"{type(error).__name__}: {error}"


def usable(status: str, use_partial: bool) -> bool:
    """Whether the frames of a video with this decode status are read, in training and testing alike:
    `ok` ones, and `partial` ones when `video.cache.use_partial`. Any other status (`undecodable`, or
    one this code does not know) has nothing that may be read."""
    return status == "ok" or (status == "partial" and use_partial)


@dataclass(frozen=True)
class DecodeReport:
    """How much of a video decoded: `decoded` frames against the `expected` its container claims
    (None when it claims nothing), and what went wrong on the way ("" when nothing did)."""

    path: str
    decoded: int
    expected: int | None
    error: str = ""

    @property
    def status(self) -> str:
        if self.decoded == 0:
            return "undecodable"
        if self.expected is not None and self.decoded < self.expected - max(1, self.expected * MISSING_FRAMES_TOLERATED):
            return "partial"
        return "ok"

    @property
    def fraction(self) -> float:
        """1.0 for ok, 0.0 for undecodable, decoded / expected for partial."""
        if self.status == "partial":
            return self.decoded / self.expected
        return 1.0 if self.status == "ok" else 0.0

    @property
    def reason(self) -> str:
        """One line for the index's `error` column: empty for ok videos."""
        if self.status == "ok":
            return ""
        if self.status == "partial":
            return f"{self.decoded} of {self.expected} frames decode" + (f"; {self.error}" if self.error else "")
        return self.error or "no frame decodes"


@contextmanager
def open_video(path: Path, threads: int = 1) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """The container and its first video stream, decoding with `threads` threads (the frames of a
    valid stream do not depend on it; how a damaged frame is concealed does)."""
    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO" if threads > 1 else "SLICE"
        stream.thread_count = threads
        yield container, stream


def claimed_frames(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int | None:
    """The frame count the container claims: its header's count, else its duration x frame rate."""
    if stream.frames:
        return int(stream.frames)
    rate = stream.average_rate or stream.guessed_rate
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / av.time_base
    else:
        return None
    return round(seconds * float(rate)) if rate else None


def decode_packets(container: av.container.InputContainer, stream: av.video.stream.VideoStream, errors: list[str]) -> Iterator[av.VideoFrame]:
    """Frames in the order the decoder hands them out, from wherever the container is positioned; a
    packet that fails to decode is skipped and its error appended to `errors`."""
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.FFmpegError as error:
            errors.append(f"packet at {packet.pts}: {error}")
            continue
        yield from frames


class VideoDecoder:
    """Every decodable frame of a video, in order; after iterating, `report` says how complete it was.

    Never raises for a broken file: one that does not open reports zero frames and why.
    """

    def __init__(self, path: Path, threads: int = 1):
        self.path, self.threads = Path(path), threads
        self.report: DecodeReport | None = None

    def frames(self) -> Iterator[av.VideoFrame]:
        """The frames; `report` is set once they have all been taken (not when the caller stops early)."""
        decoded, expected, errors = 0, None, []
        try:
            with open_video(self.path, self.threads) as (container, stream):
                expected = claimed_frames(container, stream)
                for frame in decode_packets(container, stream, errors):
                    decoded += 1
                    yield frame
        except (*VIDEO_ERRORS, OSError) as error:  # a file that does not open reports zero frames
            errors.append(error_text(error))
        self.report = DecodeReport(str(self.path), decoded, expected, _summary(errors))


def numbered_frames(decoder: VideoDecoder, wanted: set[int] | None = None, last: int | None = None) -> Iterator[tuple[int, av.VideoFrame]]:
    """(frame number, frame) for the frames in `wanted` (every frame when None), in order, stopping
    after frame `last`, so that a reader decodes no further than it needs; IndexError, saying how many
    frames did decode, when the video ends before `last`. The file is closed when this ends or is closed."""
    with closing(decoder.frames()) as frames:
        for number, frame in enumerate(frames):
            if wanted is None or number in wanted:
                yield number, frame
            if last is not None and number >= last:
                return
    if last is not None:
        report = decoder.report
        raise IndexError(f"{decoder.path}: frame {last} asked of a video of which {report.decoded} frames decode" + (f" ({report.error})" if report.error else ""))


def _summary(errors: list[str]) -> str:
    if not errors:
        return ""
    return errors[0] if len(errors) == 1 else f"{len(errors)} decode errors, the first: {errors[0]}"


def scan_video(path: Path, threads: int = 1) -> DecodeReport:
    """Decode a whole video without converting its frames: how many decode, against the container's claim."""
    decoder = VideoDecoder(path, threads)
    for _ in decoder.frames():
        pass
    return decoder.report


def read_all_frames(path: Path) -> np.ndarray:
    """Every frame of the first video stream that decodes, as (T, H, W, 3) uint8 RGB: frame k here is
    frame k for the cache and every reader."""
    decoder = VideoDecoder(path)
    frames = [frame.to_ndarray(format="rgb24") for frame in decoder.frames()]
    if not frames:
        raise ValueError(f"{path}: no decodable video frames ({decoder.report.reason})")
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
