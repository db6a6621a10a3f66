"""Write frames to a real video file with PyAV, atomically.

The embedded world writes H.264 MP4 (what Flickr serves) and MPEG-4 Part 2 AVI (what UCF101 and
HMDB51 ship). A short, fixed GOP keeps clips seekable: a decoder that seeks to a keyframe then
decodes at most `gop` frames to reach any frame.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np

from noisyactions.atomic import atomic_write_bytes

CONTAINERS = {
    ".mp4": ("mp4", "libx264"),
    ".avi": ("avi", "mpeg4"),
}


def encode_video_bytes(frames: np.ndarray, suffix: str, fps: int, gop: int, crf: int = 23) -> bytes:
    """Encode `frames` (T, H, W, 3 uint8 RGB) into the container that `suffix` names."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    height, width = frames.shape[1:3]
    if height % 2 or width % 2:
        raise ValueError(f"video width and height must be even for yuv420p, got {width}x{height}")
    try:
        container_format, codec = CONTAINERS[suffix]
    except KeyError:
        raise ValueError(f"cannot write {suffix!r} videos; supported: {sorted(CONTAINERS)}") from None
    if codec == "libx264":
        # Byte-identical output: one thread, and no macroblock-tree rate control (measured here: with
        # mbtree the same frames encode differently depending on what the process encoded before).
        # No scene-cut keyframes, so the GOP is exactly `gop`.
        x264 = f"keyint={gop}:min-keyint={gop}:scenecut=0:mbtree=0"
        options = {"crf": str(crf), "preset": "veryfast", "threads": "1", "x264-params": x264}
    else:
        options = {"g": str(gop), "qscale": str(max(2, crf // 6)), "threads": "1"}
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps, options=options)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "mpeg4":
            stream.codec_context.gop_size = gop
            stream.codec_context.qscale = True
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def write_video(frames: np.ndarray, path: Path, fps: int, gop: int, crf: int = 23) -> int:
    """Encode and atomically write a video; returns its size in bytes."""
    path = Path(path)
    data = encode_video_bytes(frames, path.suffix.lower(), fps, gop, crf)
    atomic_write_bytes(path, data)
    return len(data)
