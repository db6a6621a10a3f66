"""The video input pipeline: clip sampling, transforms, seeking decode, failures, loaders, cache."""

from __future__ import annotations

import shutil

import av
import numpy as np
import pandas as pd
import pytest
import torch

from noisyactions.video.cache import cache_video, resize_frames
from noisyactions.video.clips import evaluation_clips, training_clip
from noisyactions.video.dataset import ClipDataset, collate_clips
from noisyactions.video.decode import read_all_frames
from noisyactions.video.indexes import VideoIndexError, curated_index, hmdb51_official_index, noisyactions_index, ucf_style_index
from noisyactions.video.reader import ClipFailure, ClipReader, read_clip
from noisyactions.video.transforms import CROP_SCALES, EvalTransform, TrainTransform, normalise

from conftest import SHARED
from video_files import distinct_frame, distinct_frames, encode

VIDEO = {"clip_length": 16, "short_side": 128, "crop": 112, "test_clips": "windows", "test_clip_count": 3, "decode_threads": 1,
         "cache": {"use_partial": True}}
SPLITS = SHARED / "data" / "noisyactions2m_official"


def test_training_clips_use_a_skip_in_range_and_fit():
    rng = np.random.default_rng(0)
    skips = set()
    for _ in range(200):
        indices = training_clip(200, 16, 5, rng)
        steps = set(np.diff(indices))
        assert len(indices) == 16 and len(steps) == 1 and indices[-1] < 200
        skips |= steps
    assert skips == {1, 2, 3, 4, 5}
    assert set(np.diff(training_clip(200, 16, 1, rng))) == {1}
    for _ in range(50):  # (16 - 1) * 3 + 1 = 46 > 40 frames: the skip is reduced until the clip fits
        assert set(np.diff(training_clip(40, 16, 5, rng))) <= {1, 2}


def test_short_videos_are_padded_with_their_last_frame():
    indices = training_clip(5, 16, 5, np.random.default_rng(0))
    assert list(indices) == [0, 1, 2, 3, 4] + [4] * 11


def test_test_clips_cover_every_frame():
    windows = evaluation_clips(40, 16, "windows")
    assert windows.shape == (3, 16) and set(windows.ravel()) == set(range(40))
    assert list(windows[:, 0]) == [0, 16, 24]
    assert evaluation_clips(32, 16, "windows").shape == (2, 16)
    uniform = evaluation_clips(100, 16, "uniform", 10)
    assert uniform.shape == (10, 16) and uniform[0, 0] == 0 and uniform[-1, -1] == 99


def test_crops_use_the_paper_scales_and_one_box_per_clip():
    transform = TrainTransform(128, 112)
    rng = np.random.default_rng(1)
    sides = {transform.parameters(128, 171, rng)[2] for _ in range(300)}
    assert sides == {round(128 * s) for s in CROP_SCALES}
    # Frames that differ only by brightness: the same crop and flip on every frame keeps that difference uniform.
    base = np.random.default_rng(2).integers(0, 200, size=(48, 64, 3), dtype=np.uint8)
    frames = np.stack([base + k for k in range(16)]).astype(np.uint8)
    clip = transform(frames, np.random.default_rng(3))
    assert clip.shape == (3, 16, 112, 112)
    clip = normalise(clip)
    difference = clip[:, 1:] - clip[:, :-1]
    assert torch.allclose(difference, difference.mean(dim=(2, 3), keepdim=True), atol=0.05)


def test_test_transform_is_a_centre_crop():
    frames = np.zeros((4, 128, 170, 3), dtype=np.uint8)
    frames[:, :, 85:] = 255  # right half white
    clip = normalise(EvalTransform(128, 112)(frames))
    assert clip.shape == (3, 4, 112, 112)
    assert clip[0, 0, :, :50].max() < 0 and clip[0, 0, :, 62:].min() > 0


def test_seeking_decode_returns_exactly_the_frames(tiny_world):
    path = next(tiny_world.web_videos.glob("*.mp4"))
    full = read_all_frames(path)
    reader = ClipReader()
    for indices in (np.arange(8), np.array([7, 3, 3, 5]), np.array([6, 7])):
        assert np.array_equal(reader.read(path, indices), full[indices])


def test_broken_files_are_reported_not_raised(tiny_world, tmp_path):
    data = next(tiny_world.web_videos.glob("*.mp4")).read_bytes()
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 3])
    flipped = bytearray(data)
    for position in np.random.default_rng(0).integers(64, len(data), 400):
        flipped[position] ^= 0xFF
    (tmp_path / "flipped.mp4").write_bytes(bytes(flipped))
    reader = ClipReader()
    for name in ("truncated.mp4", "flipped.mp4", "missing.mp4"):
        result = reader.read(tmp_path / name, np.arange(8))
        assert isinstance(result, ClipFailure) or result.shape[0] == 8  # never an exception
    assert isinstance(reader.read(tmp_path / "truncated.mp4", np.arange(8)), ClipFailure)
    assert isinstance(reader.read(tmp_path / "missing.mp4", np.arange(8)), ClipFailure)
    good = next(tiny_world.web_videos.glob("*.mp4"))
    videos = pd.DataFrame({"path": [str(good), str(tmp_path / "truncated.mp4")], "target": [0, 1]})
    dataset = ClipDataset(videos, 2, {**VIDEO, "clip_length": 8, "short_side": 24, "crop": 16}, train=True)
    batch = collate_clips([dataset[0], dataset[1]])
    assert batch["clip"].shape == (1, 3, 8, 16, 16) and batch["failed_index"] == [1] and len(batch["failures"]) == 1


def _placeholders(tmp_path, lists_root):
    for list_name in ("trainlist01.txt", "testlist01.txt"):
        for line in (lists_root / list_name).read_text().splitlines():
            if line.strip():
                parts = line.strip().rsplit(" ", 1)
                relative = parts[0] if len(parts) == 2 and parts[1].isdigit() else line.strip()
                (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / relative).touch()


def test_real_ucf101_and_hmdb51_split_files(tmp_path):
    if not SPLITS.exists():
        pytest.skip(f"{SPLITS} is not here (CI and developers have ../shared beside the repository)")
    _placeholders(tmp_path / "ucf", SPLITS / "ucf101_splits")
    ucf = ucf_style_index(tmp_path / "ucf", SPLITS / "ucf101_splits", 1)
    assert (len(ucf.split("train")), len(ucf.split("test"))) == (9_537, 3_783)
    assert ucf.classes[0] == "ApplyEyeMakeup" and len(ucf.classes) == 101
    handstand = ucf.videos[ucf.videos["path"].str.contains("v_HandStandPushups_")]
    assert len(handstand) and set(handstand["target"]) == {ucf.classes.index("HandstandPushups")}
    _placeholders(tmp_path / "hmdb", SPLITS / "hmdb51_splits")
    hmdb = ucf_style_index(tmp_path / "hmdb", SPLITS / "hmdb51_splits", 1)
    assert (len(hmdb.split("train")), len(hmdb.split("test"))) == (3_570, 1_530)
    assert hmdb.classes[0] == "climb stairs"
    first = sorted((tmp_path / "ucf").rglob("*.avi"))[0]
    first.unlink()
    with pytest.raises(VideoIndexError, match=first.name):
        ucf_style_index(tmp_path / "ucf", SPLITS / "ucf101_splits", 1)


def test_a_bad_class_index_names_its_file_and_line(tmp_path, tiny_world):
    ucf = tiny_world.downstream("ucf101")
    lists = shutil.copytree(ucf / "ucfTrainTestlist", tmp_path / "lists")
    (lists / "classInd.txt").write_text("1 ApplyEyeMakeup\nBoxing\n")
    with pytest.raises(ValueError, match=r"classInd.txt:2: expected '<index> <label name>', got 'Boxing'"):
        ucf_style_index(ucf / "UCF-101", lists)
    (lists / "classInd.txt").unlink()
    with pytest.raises(VideoIndexError, match=r"classInd.txt does not exist"):
        ucf_style_index(ucf / "UCF-101", lists)


def test_embedded_sets_load_through_the_same_code(tiny_config, tiny_world):
    ucf = ucf_style_index(tiny_world.downstream("ucf101") / "UCF-101", tiny_world.downstream("ucf101") / "ucfTrainTestlist")
    hmdb = hmdb51_official_index(tiny_world.downstream("hmdb51") / "hmdb51_org", tiny_world.downstream("hmdb51") / "testTrainMulti_7030_splits")
    curated = curated_index(tiny_world.downstream("curated"))
    cfg = tiny_config["world"]
    assert len(ucf.videos) == cfg["ucf101"]["classes"] * cfg["ucf101"]["groups"] * cfg["ucf101"]["clips_per_group"]
    assert len(hmdb.split("test")) == cfg["hmdb51"]["classes"] * cfg["hmdb51"]["test_per_class"]
    assert len(curated.classes) == cfg["curated"]["classes"]
    video = {**VIDEO, "clip_length": 8, "short_side": 24, "crop": 16}
    train = ClipDataset(ucf.split("train"), len(ucf.classes), video, train=True, max_skip=1)
    sample = train[0]
    assert sample["clip"].shape == (3, 8, 16, 16) and int(sample["target"]) == ucf.split("train")["target"][0]
    test = ClipDataset(hmdb.split("test"), len(hmdb.classes), {**video, "clip_length": 4}, train=False)
    assert test[0]["clip"].shape == (2, 3, 4, 16, 16)  # 8 frames: two non-overlapping windows


def test_noisyactions_targets_are_multi_hot(tmp_path, tiny_world):
    videos = sorted(tiny_world.web_videos.glob("*.mp4"))[:2]
    table = pd.DataFrame({"photo_id": [v.stem for v in videos], "video_path": [str(v) for v in videos]})
    (tmp_path / "classInd.txt").write_text("1 juggle ball\n2 play guitar\n3 ride bike\n")
    (tmp_path / "trainlist.txt").write_text(f"{videos[0].stem} 1|3\n{videos[1].stem} 2\n")
    index = noisyactions_index(table, tmp_path / "trainlist.txt", tmp_path / "classInd.txt")
    dataset = ClipDataset(index.videos, len(index.classes), {**VIDEO, "clip_length": 4, "short_side": 24, "crop": 16}, train=True, multi_label=True)
    assert dataset[0]["target"].tolist() == [1.0, 0.0, 1.0]


def test_the_cache_returns_the_resized_frames(tiny_world, tmp_path):
    path = next(tiny_world.web_videos.glob("*.mp4"))
    record = cache_video(path, tmp_path / "v.npy", 16, "frames")
    expected = resize_frames(read_all_frames(path), 16)
    assert (record["frames"], record["status"]) == (len(expected), "ok")
    assert np.array_equal(read_clip(tmp_path / "v.npy", np.array([0, 2, 2]), ClipReader()), expected[[0, 2, 2]])
    cache_video(path, tmp_path / "v.mp4", 16, "video", gop=2)
    assert read_all_frames(tmp_path / "v.mp4").shape == expected.shape


def test_video_prediction_averages_clip_softmax_and_failures_count_wrong():
    from noisyactions.evaluation import top1_accuracy, video_prediction

    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    expected = (torch.tensor([2.0, 0.0]).softmax(0) + torch.tensor([0.0, 1.0]).softmax(0)) / 2
    assert torch.allclose(video_prediction(logits), expected)
    assert top1_accuracy([expected, torch.tensor([0.1, 0.9])], [0, 1]) == 1.0
    assert top1_accuracy([expected, torch.tensor([0.1, 0.9])], [0, 1], failed=2) == 0.5


def test_caching_holds_a_few_frames_in_memory_whatever_the_length(tmp_path):
    """Defect 5: a video streams through the cache (decode, resize, write, frame by frame); peak
    Python-heap memory is a few source frames for a 60- and a 180-frame 640x480 video alike."""
    import tracemalloc

    frame_bytes = 480 * 640 * 3
    for length in (60, 180):
        source = encode(tmp_path / f"long{length}.avi", (distinct_frame(k, 480, 640) for k in range(length)), "avi", "mpeg4", options={"g": "25", "qscale": "4"})
        for fmt, suffix in (("frames", ".npy"), ("video", ".mp4")):
            tracemalloc.start()
            try:
                cache_video(source, tmp_path / f"cached{length}{suffix}", 32, fmt)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert peak < 6 * frame_bytes, f"{fmt}, {length} frames: peak {peak / 1e6:.0f} MB, {peak / frame_bytes:.0f} source frames"
    assert np.array_equal(np.load(tmp_path / "cached180.npy"), resize_frames(read_all_frames(source), 32))
    assert read_all_frames(tmp_path / "cached180.mp4").shape == (180, 32, 42, 3)


def test_streamed_frame_files_are_what_numpy_saves(tmp_path):
    from noisyactions.video.frame_file import FrameFileWriter

    frames = np.random.default_rng(0).integers(0, 255, (7, 6, 10, 3), dtype=np.uint8)
    writer = FrameFileWriter(tmp_path / "streamed.npy")
    for frame in frames:
        writer.write(frame)
    writer.close()
    np.save(tmp_path / "saved.npy", frames)
    assert (tmp_path / "streamed.npy").read_bytes() == (tmp_path / "saved.npy").read_bytes()
    mixed = FrameFileWriter(tmp_path / "mixed.npy")
    with pytest.raises(ValueError, match="frame 7"):
        for frame in [*frames, frames[0, :4]]:
            mixed.write(frame)
    mixed.close()


@pytest.mark.parametrize("known_frames", [False, True])
def test_test_clips_come_from_one_decode_pass(tmp_path, monkeypatch, known_frames):
    """Defect 6: all the test windows of a long-GOP video from one open and one pass, not a reopen
    and a seek per window; the clips are the windows of a full decode."""
    source = encode(tmp_path / "long_gop.mp4", distinct_frames(100, 48, 64), "mp4", "libx264",
                    options={"crf": "20", "preset": "veryfast", "x264-params": "bframes=3:keyint=250:min-keyint=250:scenecut=0"})
    full = read_all_frames(source)
    opened, open_video = [], av.open
    monkeypatch.setattr(av, "open", lambda *args, **kwargs: opened.append(args[0]) or open_video(*args, **kwargs))
    videos = pd.DataFrame({"path": [str(source)], "target": [0], **({"frames": [100]} if known_frames else {})})
    video = {**VIDEO, "short_side": 48, "crop": 48}
    sample = ClipDataset(videos, 1, video, train=False)[0]
    assert len(opened) == 1, f"{len(opened)} opens for one test video"
    transform = EvalTransform(48, 48)
    expected = torch.stack([transform(full[window]) for window in evaluation_clips(100, 16, "windows")])
    assert sample["clip"].shape == (7, 3, 16, 48, 48) and torch.equal(sample["clip"], expected)


def test_a_status_the_code_does_not_know_is_not_read(tiny_world):
    """One rule says which statuses are read (decode.usable), for training's rows and a test list
    alike: ok, partial with video.cache.use_partial, nothing else, not even a status it has never seen."""
    from noisyactions.training.usable import usable_rows

    path = str(next(tiny_world.web_videos.glob("*.mp4")))
    videos = pd.DataFrame({"path": [path] * 4, "target": [0] * 4, "status": ["ok", "partial", "undecodable", "quarantined"], "error": ["", "6 of 8", "no frame", "?"]})
    for use_partial in (True, False):
        dataset = ClipDataset(videos, 1, {**VIDEO, "clip_length": 4, "short_side": 24, "crop": 16, "cache": {"use_partial": use_partial}}, train=False)
        read = [True, use_partial, False, False]
        assert ["failure" not in dataset[item] for item in range(4)] == read
        assert usable_rows(videos, use_partial).tolist() == read
    assert "quarantined: ?" in dataset[3]["failure"].reason


def test_training_reads_only_usable_rows_and_stops_with_a_named_error_when_none_is_left(caplog):
    """Every training job (pretraining, SSL, fine-tuning) takes its videos through one helper: the
    skipped ones are logged per status, and a split with nothing readable stops naming the job."""
    from noisyactions.training.usable import usable_training_videos

    videos = pd.DataFrame({"path": ["a", "b", "c"], "status": ["ok", "partial", "undecodable"], "error": ["", "6 of 8", "no frame"]}, index=[4, 7, 9])
    with caplog.at_level("WARNING", logger="noisyactions.training.usable"):
        kept = usable_training_videos(videos, False, "cache.parquet: training")
    assert kept["path"].tolist() == ["a"] and kept.index.tolist() == [0]
    assert "cache.parquet: training: 2 of 3 videos not usable (1 partial, 1 undecodable)" in caplog.text
    assert usable_training_videos(videos, True, "x")["path"].tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="cache.parquet: pretraining: none of the 1 videos is usable"):
        usable_training_videos(videos.iloc[2:], True, "cache.parquet: pretraining")
