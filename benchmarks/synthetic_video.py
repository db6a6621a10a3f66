"""A long synthetic H.264 video for the video benchmarks, written frame by frame (never all in memory)."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import numpy as np

from noisyactions.video.encode import VideoWriter


def write_moving_gradient(path: Path, frames: int, fps: int, width: int, height: int, x264_params: str, preset: str = "ultrafast", crf: int = 18) -> int:
    """A gradient sliding 3 levels per frame under a white bar moving 8 px per frame, encoded with the
    package's writer under the benchmark's own x264 settings; returns the frame count."""
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    with closing(VideoWriter(path, ".mp4", fps, gop=250, crf=crf, options={"preset": preset, "x264-params": x264_params})) as writer:
        for k in range(frames):
            frame = np.broadcast_to((ramp + 3 * k) % 256, (height, width, 3)).astype(np.uint8)
            frame[:, (8 * k) % (width - 32):(8 * k) % (width - 32) + 32] = 255
            writer.write(frame)
    return frames
