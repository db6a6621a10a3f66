"""Read clips out of the frame cache (`.npy` arrays of uint8 (T, H, W, 3)) through a memory map.

A clip is a handful of frames of a file that may hold hundreds, and training then keeps only a crop
of each frame: mapping the file and handing back a strided view means the page cache is touched
only for the bytes the crop copies out (transforms.py), instead of copying every frame of the clip
first. `np.load(mmap_mode="r")` maps the same way but takes several times as long per call (its
header parser and np.memmap), which shows at hundreds of clips per second.
"""

from __future__ import annotations

import mmap
import re
from pathlib import Path

import numpy as np


# What np.save writes for a C-ordered uint8 (T, H, W, 3) array, the only thing the cache writes.
_NUMPY_V1 = b"\x93NUMPY\x01\x00"
_FRAMES_HEADER = re.compile(rb"\{'descr': '\|u1', 'fortran_order': False, 'shape': \((\d+), (\d+), (\d+), 3\), \}\s*")


def _frames_layout(handle, path: Path) -> tuple[tuple[int, ...], int]:
    """Shape and data offset of a frame cache file. np.save's header for uint8 frames is read with a
    pattern, in a microsecond; any other goes through numpy's parser (ast.literal_eval, tens of
    microseconds a clip) and must still describe C-ordered uint8 (T, H, W, 3) frames."""
    start = handle.read(len(_NUMPY_V1) + 2)
    if start[: len(_NUMPY_V1)] == _NUMPY_V1:
        length = int.from_bytes(start[len(_NUMPY_V1) :], "little")
        if match := _FRAMES_HEADER.fullmatch(handle.read(length)):
            return (*(int(size) for size in match.groups()), 3), len(start) + length
    handle.seek(0)
    major, _ = np.lib.format.read_magic(handle)
    read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
    shape, fortran_order, dtype = read_header(handle)
    if dtype != np.uint8 or len(shape) != 4 or shape[-1] != 3 or fortran_order:
        order = "Fortran" if fortran_order else "C"
        raise ValueError(f"{path}: expected C-ordered uint8 frames (T, H, W, 3), found {dtype} {shape} in {order} order")
    return shape, handle.tell()


def map_frames(path: Path) -> np.ndarray:
    """The whole cached video as a read-only (T, H, W, 3) uint8 array backed by the file's pages."""
    with open(path, "rb") as handle:
        shape, offset = _frames_layout(handle, path)
        needed = offset + int(np.prod(shape))
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if len(mapped) < needed:
        raise ValueError(f"{path}: truncated, {len(mapped)} bytes where {shape} frames need {needed}")
    return np.ndarray(shape, np.uint8, buffer=mapped, offset=offset)


def select_frames(frames: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Frames `indices` of `frames`: a view when they are evenly spaced and increasing (every clip
    that fits its video), a copy otherwise (a short video padded with its last frame)."""
    indices = np.asarray(indices)
    if indices.size == 0:
        raise IndexError("a clip needs at least one frame index")
    first, last = int(indices.min()), int(indices.max())
    if first < 0 or last >= len(frames):
        raise IndexError(f"frames {first}..{last} asked of a video of {len(frames)} frames")
    steps = np.diff(indices)
    if steps.size == 0 or (steps[0] > 0 and (steps == steps[0]).all()):
        return frames[indices[0] : indices[-1] + 1 : steps[0] if steps.size else 1]
    return frames[indices]
