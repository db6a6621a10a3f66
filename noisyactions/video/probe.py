"""Check that a video file decodes and read what it is: the gate every downloaded file passes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av


class UndecodableVideo(ValueError):
    pass


@dataclass(frozen=True)
class VideoProbe:
    duration_seconds: float
    width: int
    height: int


def probe_video(path: Path) -> VideoProbe:
    """Open the file, decode its first frame, read its duration; UndecodableVideo says why not."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UndecodableVideo(f"{path}: no video stream")
            stream = container.streams.video[0]
            frame = next(container.decode(stream), None)
            if frame is None:
                raise UndecodableVideo(f"{path}: no frame decodes")
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = (container.duration or 0) / av.time_base
            return VideoProbe(duration, frame.width, frame.height)
    except UndecodableVideo:
        raise
    except (av.error.FFmpegError, StopIteration, OSError) as error:
        raise UndecodableVideo(f"{path}: {type(error).__name__}: {error}") from None
