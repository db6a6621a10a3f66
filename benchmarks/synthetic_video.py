"""A long synthetic H.264 video for the video benchmarks, written frame by frame (never all in memory)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_moving_gradient(path: Path, frames: int, fps: int, width: int, height: int, x264_params: str, preset: str = "ultrafast", crf: int = 18) -> int:
    """A gradient sliding 3 levels per frame under a white bar moving 8 px per frame; returns the frame count."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": preset, "x264-params": x264_params})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for k in range(frames):
            frame = np.broadcast_to((ramp + 3 * k) % 256, (height, width, 3)).astype(np.uint8)
            frame[:, (8 * k) % (width - 32):(8 * k) % (width - 32) + 32] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return frames
