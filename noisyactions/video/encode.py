"""Write frames to a real video file with PyAV, atomically.

The embedded world writes H.264 MP4 (what Flickr serves) and MPEG-4 Part 2 AVI (what UCF101 and
HMDB51 ship). A short, fixed GOP keeps clips seekable: a decoder that seeks to a keyframe then
decodes at most `gop` frames to reach any frame.
"""

from __future__ import annotations

import io
from contextlib import closing
from pathlib import Path

import av
import numpy as np

from noisyactions.atomic import atomic_write_bytes

CONTAINERS = {
    ".mp4": ("mp4", "libx264"),
    ".avi": ("avi", "mpeg4"),
}


def encoder_options(codec: str, gop: int, crf: int) -> dict[str, str]:
    """The encoder options the package writes with: a GOP of exactly `gop` frames, quality `crf`."""
    if codec == "libx264":
        # Byte-identical output: one thread, and no macroblock-tree rate control (measured here: with
        # mbtree the same frames encode differently depending on what the process encoded before).
        # No scene-cut keyframes, so the GOP is exactly `gop`.
        return {"crf": str(crf), "preset": "veryfast", "threads": "1", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:mbtree=0"}
    return {"g": str(gop), "qscale": str(max(2, crf // 6)), "threads": "1"}


class VideoWriter:
    """Encode frames one at a time into `target` (a path or a binary file), in the container that
    `suffix` names: a long video never has to be in memory at once. The stream is set up by the first
    frame (its size); a writer that got no frame writes nothing. `options` replace or add encoder
    options over `encoder_options`' (a benchmark's preset or x264 parameters, say)."""

    def __init__(self, target, suffix: str, fps: int, gop: int, crf: int = 23, options: dict[str, str] | None = None):
        if suffix not in CONTAINERS:
            raise ValueError(f"cannot write {suffix!r} videos; supported: {sorted(CONTAINERS)}")
        self.target, self.suffix, self.fps, self.gop = target, suffix, fps, gop
        self.options = {**encoder_options(CONTAINERS[suffix][1], gop, crf), **(options or {})}
        self.container = self.stream = None
        self.frames = 0

    def _open(self, height: int, width: int) -> None:
        if height % 2 or width % 2:
            raise ValueError(f"video width and height must be even for yuv420p, got {width}x{height}")
        container_format, codec = CONTAINERS[self.suffix]
        self.container = av.open(str(self.target) if isinstance(self.target, (str, Path)) else self.target, "w", format=container_format)
        self.stream = self.container.add_stream(codec, rate=self.fps, options=self.options)
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        if codec == "mpeg4":
            self.stream.codec_context.gop_size = self.gop
            self.stream.codec_context.qscale = True

    def write(self, frame: np.ndarray) -> None:
        """One (H, W, 3) uint8 RGB frame, the same size as the first."""
        if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"a frame must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
        if self.stream is None:
            self._open(*frame.shape[:2])
        elif frame.shape[:2] != (self.stream.height, self.stream.width):
            raise ValueError(f"frame {self.frames} is {frame.shape[1]}x{frame.shape[0]}, the video {self.stream.width}x{self.stream.height}")
        for packet in self.stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
            self.container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        if self.container is None:
            return
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()
            self.container = None


def encode_video_bytes(frames: np.ndarray, suffix: str, fps: int, gop: int, crf: int = 23) -> bytes:
    """Encode `frames` (T, H, W, 3 uint8 RGB) into the container that `suffix` names."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    buffer = io.BytesIO()
    with closing(VideoWriter(buffer, suffix, fps, gop, crf)) as writer:
        for frame in frames:
            writer.write(frame)
    return buffer.getvalue()


def write_video(frames: np.ndarray, path: Path, fps: int, gop: int, crf: int = 23) -> int:
    """Encode and atomically write a video; returns its size in bytes."""
    path = Path(path)
    data = encode_video_bytes(frames, path.suffix.lower(), fps, gop, crf)
    atomic_write_bytes(path, data)
    return len(data)
