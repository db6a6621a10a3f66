"""Synthetic label noise (paper Sec. 4.3, App. B.2, Table 6): exactly ceil(rate * n) videos of every class
relabelled, never to their own class, reproducibly per seed and rate; on the real UCF101 split 1 lists
where they are here, and on hand-computed cases everywhere."""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from conftest import SHARED
from noisyactions.robustness.label_noise import (
    MODES,
    confusion_heatmap,
    make_noisy_trainlist,
    noise_report,
    noisy_targets,
    read_ucf_trainlist,
    write_noise_report,
    write_ucf_trainlist,
)

UCF_SPLITS = SHARED / "data" / "noisyactions2m_official" / "ucf101_splits"
TRAINLIST, CLASS_INDEX, TESTLIST = UCF_SPLITS / "trainlist01.txt", UCF_SPLITS / "classInd.txt", UCF_SPLITS / "testlist01.txt"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def need_ucf_lists():
    for path in (TRAINLIST, CLASS_INDEX, TESTLIST):
        if not path.exists():
            pytest.skip(f"{path} is not here (CI and developers have ../shared beside the repository)")


def expected_flips(rate: float, videos: int) -> int:
    """The published rule in exact arithmetic, independent of the module's float tolerance."""
    return math.ceil(Fraction(str(rate)) * videos)


def report_outputs(folder) -> dict:
    names = {"json": "summary.json", "per_class": "per_class.csv", "confusion": "confusion.csv", "heatmap": "heatmap.png"}
    return {key: folder / name for key, name in names.items()}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def ucf_split1():
    need_ucf_lists()
    return read_ucf_trainlist(TRAINLIST, CLASS_INDEX)


def test_real_trainlist_reads_as_written(ucf_split1):
    relative_paths, targets, class_names = ucf_split1
    assert (len(relative_paths), len(class_names)) == (9_537, 101)
    assert relative_paths[0] == "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi" and targets[0] == 0
    assert class_names[:3] == ["ApplyEyeMakeup", "ApplyLipstick", "Archery"] and class_names[-1] == "YoYo"
    folders = [path.split("/")[0] for path in relative_paths]
    assert all(class_names[target] == folder for target, folder in zip(targets, folders))  # the clean list agrees with its folders
    assert set(targets) == set(range(101))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rate", [0.4, 0.8])
def test_real_split_flips_exactly_ceil_rate_per_class_never_to_itself(ucf_split1, rate, mode):
    _, clean, _ = ucf_split1
    noisy = noisy_targets(clean, 101, rate, mode, np.random.default_rng(7))
    assert noisy.min() >= 0 and noisy.max() < 101
    videos = np.bincount(clean, minlength=101)
    # A video "flipped" to its own class would leave its class short of ceil(rate * n) changed labels.
    changed = np.bincount(clean[noisy != clean], minlength=101)
    assert changed.tolist() == [expected_flips(rate, n) for n in videos]
    assert any(expected_flips(rate, n) != round(rate * n) for n in videos)  # the split tells ceil from rounding


@pytest.mark.parametrize("mode", MODES)
def test_real_split_picks_flipped_videos_at_random_within_each_class(ucf_split1, mode):
    """Not the first ceil(rate * n) of each class (the list is sorted by group): about half the flips fall
    in each class's first half."""
    _, clean, _ = ucf_split1
    noisy = noisy_targets(clean, 101, 0.4, mode, np.random.default_rng(3))
    starts = np.searchsorted(clean, np.arange(101))  # the list is grouped by class
    videos = np.bincount(clean, minlength=101)
    flipped = np.flatnonzero(noisy != clean)
    in_first_half = (flipped - starts[clean[flipped]]) < videos[clean[flipped]] / 2
    assert 0.45 < in_first_half.mean() < 0.55


def test_real_split_class_dependent_sends_each_class_to_one_other_class(ucf_split1):
    _, clean, _ = ucf_split1
    noisy = noisy_targets(clean, 101, 0.4, "class_dependent", np.random.default_rng(11))
    destinations = {c: set(noisy[(clean == c) & (noisy != clean)].tolist()) for c in range(101)}
    assert all(len(d) == 1 and c not in d for c, d in destinations.items())
    assert sorted(d.pop() for d in destinations.values()) == list(range(101))  # a derangement: each class receives one class's flips


def test_real_split_per_class_uniform_spreads_each_class_over_many(ucf_split1):
    _, clean, _ = ucf_split1
    noisy = noisy_targets(clean, 101, 0.8, "per_class_uniform", np.random.default_rng(11))
    distinct = [len(set(noisy[(clean == c) & (noisy != clean)].tolist())) for c in range(101)]
    assert min(distinct) > 20  # ~60+ flips per class over 100 other classes


def test_real_noisy_list_is_reproducible_per_seed_and_rate_and_reads_back(ucf_split1, tmp_path):
    relative_paths, clean, class_names = ucf_split1
    before = {path: digest(path) for path in (TRAINLIST, TESTLIST, CLASS_INDEX)}
    lists = {}
    for name, seed, rate in (("a", 0, 0.4), ("b", 0, 0.4), ("c", 1, 0.4), ("d", 0, 0.8)):
        out_list = tmp_path / f"{name}.txt"
        summary = make_noisy_trainlist(TRAINLIST, CLASS_INDEX, rate, "per_class_uniform", seed, out_list, report_outputs(tmp_path / name))
        lists[name] = (tmp_path / f"{name}.txt").read_bytes()
        assert (summary["videos"], summary["rate"], summary["mode"], summary["max_flips_off_rule"]) == (9_537, rate, "per_class_uniform", 0)
    assert lists["a"] == lists["b"] and lists["a"] != lists["c"]
    assert {path: digest(path) for path in (TRAINLIST, TESTLIST, CLASS_INDEX)} == before
    # Seeded by (seed, rate in thousandths): the workflow's contract for making one rate's list on its own.
    expected = noisy_targets(clean, 101, 0.8, "per_class_uniform", np.random.default_rng([0, 800]))
    read_paths, read_targets, read_names = read_ucf_trainlist(tmp_path / "d.txt", CLASS_INDEX)
    assert read_paths == relative_paths and read_names == class_names
    assert np.array_equal(read_targets, expected)
    assert (read_targets != clean).sum() == json.loads((tmp_path / "d" / "summary.json").read_text())["flipped"]
    assert lists["d"].split(b"\n")[0] == f"{relative_paths[0]} {expected[0] + 1}".encode() and b"\r" not in lists["d"]


def test_make_noisy_trainlist_refuses_to_overwrite_its_clean_list(tmp_path):
    (tmp_path / "classInd.txt").write_text("1 A\n2 B\n")
    (tmp_path / "trainlist01.txt").write_text("A/a.avi 1\nB/b.avi 2\n")
    with pytest.raises(ValueError, match="overwrite"):
        make_noisy_trainlist(tmp_path / "trainlist01.txt", tmp_path / "classInd.txt", 0.4, "per_class_uniform", 0,
                             tmp_path / "trainlist01.txt", report_outputs(tmp_path))
    assert (tmp_path / "trainlist01.txt").read_text() == "A/a.avi 1\nB/b.avi 2\n"


@pytest.mark.parametrize("mode", MODES)
def test_rate_zero_flips_nothing_and_rate_one_flips_everything(mode):
    targets = np.repeat(np.arange(4), [10, 3, 1, 7])
    assert np.array_equal(noisy_targets(targets, 4, 0.0, mode, np.random.default_rng(0)), targets)
    flipped_all = noisy_targets(targets, 4, 1.0, mode, np.random.default_rng(0))
    assert np.all(flipped_all != targets)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("rate", "videos", "flips"), [(0.4, 10, 4), (0.07, 100, 7), (0.28, 25, 7), (0.4, 6, 3), (0.1, 1, 1), (0.5, 3, 2)])
def test_hand_computed_flip_counts(rate, videos, flips, mode):
    """0.07 * 100 is 7.000000000000001 in floats: a plain ceil would flip 8."""
    targets = np.array([2] * videos + [0] * 5)
    noisy = noisy_targets(targets, 3, rate, mode, np.random.default_rng(5))
    assert (noisy[:videos] != 2).sum() == flips
    assert (noisy[videos:] != 0).sum() == expected_flips(rate, 5)


def test_input_targets_are_left_unchanged():
    targets = np.array([0, 0, 1, 1, 2, 2])
    noisy_targets(targets, 3, 1.0, "per_class_uniform", np.random.default_rng(0))
    assert targets.tolist() == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize(("targets", "classes", "rate", "mode", "message"), [
    ([0, 1], 2, 1.5, "per_class_uniform", "1.5"),
    ([0, 1], 2, -0.1, "per_class_uniform", "-0.1"),
    ([0, 1], 2, float("nan"), "class_dependent", "nan"),
    ([0, 3], 3, 0.4, "per_class_uniform", "target 3 at position 1"),
    ([-1, 0], 3, 0.4, "class_dependent", "target -1 at position 0"),
    ([0, 0], 1, 0.4, "per_class_uniform", "classes=1"),
    ([0, 1], 2, 0.4, "symmetric", "'symmetric'"),
])
def test_bad_arguments_are_errors_naming_the_value(targets, classes, rate, mode, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        noisy_targets(np.array(targets), classes, rate, mode, np.random.default_rng(0))


def test_per_class_uniform_spreads_flips_evenly_over_the_other_classes():
    targets = np.zeros(2_000, dtype=np.int64)
    noisy = noisy_targets(targets, 5, 1.0, "per_class_uniform", np.random.default_rng(2024))
    counts = np.bincount(noisy, minlength=5)
    assert counts[0] == 0
    chi_square = (((counts[1:] - 500) ** 2) / 500).sum()
    assert chi_square < 16.27  # 3 degrees of freedom, p = 0.001
    dependent = noisy_targets(targets, 5, 1.0, "class_dependent", np.random.default_rng(2024))
    assert len(set(dependent.tolist())) == 1 and dependent[0] != 0


def test_read_ucf_trainlist_takes_labels_from_ids_not_folders(tmp_path):
    (tmp_path / "classInd.txt").write_bytes(b"1 Archery\r\n2 Bowling\r\n\r\n3 Diving\r\n")
    (tmp_path / "list.txt").write_bytes(b"Archery/v_a.avi 3\r\n\r\nBowling/v_b.avi 2\r\nDiving/v_c.avi 1")
    paths, targets, names = read_ucf_trainlist(tmp_path / "list.txt", tmp_path / "classInd.txt")
    assert paths == ["Archery/v_a.avi", "Bowling/v_b.avi", "Diving/v_c.avi"]
    assert (targets.tolist(), names) == ([2, 1, 0], ["Archery", "Bowling", "Diving"])
    write_ucf_trainlist(tmp_path / "back.txt", paths, targets)
    assert (tmp_path / "back.txt").read_bytes() == b"Archery/v_a.avi 3\nBowling/v_b.avi 2\nDiving/v_c.avi 1\n"


@pytest.mark.parametrize(("class_index", "trainlist", "message"), [
    ("1 A\n2 B\n", "A/a.avi 1\n\nB/b.avi 3\n", r"list\.txt:3: class id 3"),
    ("1 A\n2 B\n", "A/a.avi 1\nB/b.avi\n", r"list\.txt:2: expected"),
    ("1 A\n2 B\n", "A/a.avi 0\n", r"list\.txt:1: class id 0"),
    ("1 A\n3 B\n", "A/a.avi 1\n", r"classInd\.txt:2: class id 3 should be 2"),
    ("1 A\n2 B\n", "\n\n", r"list\.txt lists no videos"),
])
def test_malformed_lists_are_errors_naming_file_and_line(tmp_path, class_index, trainlist, message):
    (tmp_path / "classInd.txt").write_text(class_index)
    (tmp_path / "list.txt").write_text(trainlist)
    with pytest.raises(ValueError, match=message):
        read_ucf_trainlist(tmp_path / "list.txt", tmp_path / "classInd.txt")


def test_noise_report_counts_by_hand(tmp_path):
    clean = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    noisy = np.array([1, 0, 2, 1, 0, 2, 2, 2, 0])
    summary, per_class, confusion = noise_report(clean, noisy, ["a", "b", "c"])
    assert confusion.to_numpy().tolist() == [[1, 1, 1], [1, 1, 0], [1, 0, 3]]
    assert confusion.to_numpy().sum() == 9 and np.diag(confusion.to_numpy()).tolist() == [1, 1, 3]
    assert list(confusion.index) == ["a", "b", "c"] and list(confusion.columns) == ["a", "b", "c"]
    assert per_class["flipped"].tolist() == [2, 1, 1] and per_class["videos"].tolist() == [3, 2, 4]
    assert per_class["realised_rate"].tolist() == pytest.approx([2 / 3, 1 / 2, 1 / 4])
    assert (summary["videos"], summary["flipped"]) == (9, 4) and summary["realised_rate"] == pytest.approx(4 / 9)
    assert (summary["per_class_rate_min"], summary["per_class_rate_max"]) == pytest.approx((1 / 4, 2 / 3))

    outputs = report_outputs(tmp_path)
    written = write_noise_report(clean, noisy, ["a", "b", "c"], 0.4, "per_class_uniform", outputs)
    # ceil(0.4 * [3, 2, 4]) = [2, 1, 2]: class c is one flip short.
    assert json.loads(outputs["json"].read_text()) == written and written["max_flips_off_rule"] == 1
    assert (written["rate"], written["mode"]) == (0.4, "per_class_uniform")
    assert pd.read_csv(outputs["confusion"], index_col="true").to_numpy().tolist() == confusion.to_numpy().tolist()
    assert pd.read_csv(outputs["per_class"])["flipped"].tolist() == [2, 1, 1]
    assert outputs["heatmap"].read_bytes()[:8] == PNG_MAGIC


def test_heatmap_of_101_classes_is_a_png_and_closes_its_figure(tmp_path):
    targets = np.repeat(np.arange(101), 6)
    noisy = noisy_targets(targets, 101, 0.4, "class_dependent", np.random.default_rng(0))
    figures_before = set(plt.get_fignums())
    outputs = report_outputs(tmp_path)
    write_noise_report(targets, noisy, [f"Class{k}" for k in range(101)], 0.4, "class_dependent", outputs)
    assert outputs["heatmap"].read_bytes()[:8] == PNG_MAGIC
    assert set(plt.get_fignums()) == figures_before
    assert Counter(pd.read_csv(outputs["per_class"])["flipped"]) == {3: 101}


def test_heatmap_numbers_only_where_they_fit_and_class_names_thinned():
    """101 annotated cells and 101 names per axis would be an unreadable (and minutes-long) drawing."""
    for classes, annotated, most_names in ((5, True, 5), (101, False, 30)):
        names = [f"Class{k}" for k in range(classes)]
        confusion = pd.DataFrame(np.eye(classes, dtype=int), index=pd.Index(names, name="true"), columns=pd.Index(names, name="noisy"))
        figure = confusion_heatmap(confusion, "test")
        try:
            axes = figure.axes[0]
            assert (len(axes.texts) == classes * classes) is annotated and (len(axes.texts) == 0) is not annotated
            assert len(axes.get_xticklabels()) <= most_names and len(axes.get_yticklabels()) <= most_names
        finally:
            plt.close(figure)


def test_report_needs_every_output(tmp_path):
    outputs = report_outputs(tmp_path)
    del outputs["heatmap"]
    with pytest.raises(ValueError, match="'heatmap'"):
        write_noise_report(np.array([0, 1]), np.array([1, 0]), ["a", "b"], 1.0, "class_dependent", outputs)
