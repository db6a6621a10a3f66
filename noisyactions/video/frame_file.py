"""Write the frame cache's `.npy` files one frame at a time.

A video's length is known only once it has been decoded (its header may be wrong, decode.py), and
holding every frame until then is what made caching a long video cost gigabytes. So the header is
written first with room to spare, then the frames, then the header again with the real count: numpy
pads every header so that the first dimension can grow to 21 digits without moving the data, which
is the same layout `np.save` writes and `np.load(mmap_mode="r")` maps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def checked_frame_shape(path: Path, frame: np.ndarray, first: tuple[int, int, int] | None, number: int) -> tuple[int, int, int]:
    """The shape of frame `number` of a cache file, which must be uint8 (H, W, 3) and the size of the
    `first` frame (None for the first): a cache file holds frames of one size."""
    if frame.ndim != 3 or frame.shape[-1] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"{path}: a frame must be uint8 (H, W, 3), got {frame.dtype} {frame.shape}")
    if first is not None and frame.shape != first:
        raise ValueError(f"{path}: frame {number} is {frame.shape}, the first was {first}")
    return frame.shape


class FrameFileWriter:
    """Append (H, W, 3) uint8 frames to an `.npy` file of shape (T, H, W, 3); `close` fixes T. The
    first frame sets the size; a writer that got no frame leaves the file empty."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.handle = None
        self.shape: tuple[int, int, int] | None = None
        self.frames = 0
        self.data_offset: int | None = None  # where the frames start, once the header is written

    def _header(self, count: int) -> dict:
        return {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)), "fortran_order": False, "shape": (count, *self.shape)}

    def write(self, frame: np.ndarray) -> None:
        self.shape = checked_frame_shape(self.path, frame, self.shape, self.frames)
        if self.handle is None:
            self.handle = open(self.path, "wb")
            np.lib.format.write_array_header_1_0(self.handle, self._header(0))
            self.data_offset = self.handle.tell()
        self.handle.write(np.ascontiguousarray(frame).tobytes())
        self.frames += 1

    def close(self) -> None:
        if self.handle is None:
            return
        try:
            self.handle.seek(0)
            np.lib.format.write_array_header_1_0(self.handle, self._header(self.frames))
            if self.handle.tell() != self.data_offset:
                raise ValueError(f"{self.path}: the header for {self.frames} frames does not fit the space left for it")
        finally:
            self.handle.close()
            self.handle = None
