"""The authors' published lists against what a crawl has: NoisyActions lists whose videos partly
vanished from Flickr (skipped, counted, reported; an error only above the configured fraction), and
the authors' HMDB51 lists, whose class names have spaces where hmdb51_org's folders have underscores."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pandas as pd
import pyarrow.parquet as pq
import pytest

from noisyactions.dataset.official_splits import official_source_config, official_splits, table_lacking
from noisyactions.dataset.run import splits
from noisyactions.label_lists import label_list_paths, read_class_index, read_label_indices, read_label_list
from noisyactions.list_coverage import ListCoverageError
from noisyactions.video.indexes import VideoIndexError, noisyactions_index, ucf_style_index

from conftest import SHARED

OFFICIAL = SHARED / "data" / "noisyactions2m_official"
LISTS = OFFICIAL / "multilabel"
HMDB51_LISTS = OFFICIAL / "hmdb51_splits"
HMDB51_FOLDERS = SHARED / "data" / "class_vocab" / "hmdb51.txt"  # the real hmdb51_org class folder names


def need(*paths):
    for path in paths:
        if not path.exists():
            pytest.skip(f"{path} is not here (CI and developers have ../shared beside the repository)")


def test_published_lists_with_every_video_found_lose_393_and_72_videos_to_the_label_rule():
    need(LISTS)
    ids, _ = read_label_indices(LISTS / "trainlist100k.txt")
    found = official_splits(LISTS, ["25k", "100k"], set(ids), min_videos=10)
    assert (found["100k"].coverage.listed, found["100k"].coverage.missing, found["100k"].coverage.dropped_by_label_rule) == (99_356, 0, 393)
    assert (found["25k"].coverage.listed, found["25k"].coverage.missing, found["25k"].coverage.dropped_by_label_rule) == (27_568, 0, 72)


def _expected_dropped(ids100, names100, available, ids, names, min_videos):
    """The paper's rule, independently: labels with more than min_videos found videos in the 100K."""
    per_label = Counter(label for i, row in zip(ids100, names100) if i in available for label in set(row))
    return sum(1 for i, row in zip(ids, names) if i in available and not any(per_label[label] > min_videos for label in row))


def test_published_lists_with_2_percent_of_the_videos_missing(tmp_path):
    """A synthetic crawl that lacks 2% of the published 100K ids: skipped, counted per split, reported."""
    need(LISTS)
    ids100, names100 = read_label_list(*label_list_paths(LISTS, "100k"))
    ids25, names25 = read_label_list(*label_list_paths(LISTS, "25k"))
    table, missing = table_lacking(ids100, 0.02)
    available = set(ids100) - missing
    pq.write_table(table, tmp_path / "noisyactions.parquet")
    config = official_source_config(LISTS, 0.05)
    report = {kind: tmp_path / f"coverage.{kind}" for kind in ("csv", "json", "md")}
    out = tmp_path / "splits"
    splits(tmp_path / "noisyactions.parquet", config, 10, "test", out, report)

    rows = {row["split"]: row for row in json.loads(report["json"].read_text())["splits"]}
    for name, ids, names in (("100k", ids100, names100), ("25k", ids25, names25)):
        lacking = len(missing & set(ids))
        dropped = _expected_dropped(ids100, names100, available, ids, names, 10)
        assert rows[name]["listed"] == len(ids) and rows[name]["missing"] == lacking and rows[name]["found"] == len(ids) - lacking
        assert rows[name]["dropped_by_label_rule"] == dropped and rows[name]["kept"] == len(ids) - lacking - dropped
        written, indices = read_label_indices(out / f"trainlist{name}.txt")
        assert len(written) == rows[name]["kept"] and not set(written) & missing
        published = dict(zip(*read_label_indices(LISTS / f"trainlist{name}.txt")))
        assert all(set(row) <= set(published[i]) and row == [k for k in published[i] if k in row] for i, row in zip(written, indices)), \
            "labels are the authors' indices, in their order"
        assert (out / f"classInd{name}.txt").read_bytes() == (LISTS / f"classInd{name}.txt").read_bytes()
    assert 0.015 < rows["100k"]["missing_fraction"] < 0.025
    assert "dropped_by_label_rule" in report["md"].read_text() and len(pd.read_csv(report["csv"])) == 2

    lacking25 = len(missing & set(ids25))
    strict = {**config, "official": {**config["official"], "max_missing_fraction": 0.01}}
    with pytest.raises(ListCoverageError, match=rf"trainlist25k\.txt: {lacking25:,} of 27,568 listed videos .*official\.max_missing_fraction = 1\.00%"):
        splits(tmp_path / "noisyactions.parquet", strict, 10, "test", tmp_path / "strict", report)
    with pytest.raises(FileNotFoundError, match="dataset.splits.official.root"):
        splits(tmp_path / "noisyactions.parquet", {**config, "sizes": {"1m": 1}}, 10, "test", tmp_path / "o2", report)


def test_noisyactions_index_skips_and_counts_videos_without_a_file(tmp_path):
    for name in ("1", "2", "3"):
        (tmp_path / f"{name}.mp4").touch()
    table = pd.DataFrame({"photo_id": ["1", "2", "3", "4"], "video_path": [str(tmp_path / f"{n}.mp4") for n in "123"] + [None]})
    (tmp_path / "classInd.txt").write_text("1 ride bike\n2 play guitar\n3 juggle ball\n")
    (tmp_path / "trainlist.txt").write_text("1 3|1\n2 2\n4 1\n5 2\n3 2|1\n")
    index = noisyactions_index(table, tmp_path / "trainlist.txt", tmp_path / "classInd.txt")
    assert [p.rsplit("/", 1)[1] for p in index.videos["path"]] == ["1.mp4", "2.mp4", "3.mp4"]
    assert index.videos["target"].tolist() == [[2, 0], [1], [1, 0]], "targets keep the list's label order"
    assert (index.coverage.listed, index.coverage.found, index.coverage.missing) == (5, 3, 2)
    with pytest.raises(ListCoverageError, match=r"trainlist.txt: 2 of 5 listed videos \(40\.00%\)"):
        noisyactions_index(table, tmp_path / "trainlist.txt", tmp_path / "classInd.txt", max_missing_fraction=0.3)


def _layout_hmdb51(root, folders):
    """hmdb51_org/<real folder>/<file>.avi for every video of the authors' lists (empty files)."""
    real = {folder.replace("_", " "): folder for folder in folders}
    used = set()
    for list_name in ("trainlist01.txt", "testlist01.txt"):
        for line in (HMDB51_LISTS / list_name).read_text().splitlines():
            relative = line.strip().rsplit(" ", 1)[0]
            name, _, file_name = relative.partition("/")
            (root / real[name]).mkdir(parents=True, exist_ok=True)
            (root / real[name] / file_name).touch()
            used.add(real[name])
    return used


def test_hmdb51_authors_lists_find_the_real_underscore_folders(tmp_path):
    need(HMDB51_LISTS, HMDB51_FOLDERS)
    folders = HMDB51_FOLDERS.read_text().split()
    root = tmp_path / "hmdb51_org"
    assert _layout_hmdb51(root, folders) == set(folders) and any("_" in f for f in folders)
    index = ucf_style_index(root, HMDB51_LISTS, 1)
    assert (len(index.split("train")), len(index.split("test"))) == (3_570, 1_530)
    assert index.classes[0] == "climb stairs" and len(index.classes) == 51
    parents = {p.rsplit("/", 2)[1] for p in index.videos["path"]}
    assert parents == set(folders), "every video is found in its real (underscore) folder"
    climb = index.videos[index.videos["path"].str.contains("/climb_stairs/")]
    assert set(climb["target"]) == {index.classes.index("climb stairs")}
    assert set(read_class_index(HMDB51_LISTS / "classInd.txt").values()) == set(index.classes)

    shutil.rmtree(root / "sword_exercise")
    with pytest.raises(VideoIndexError, match=r"trainlist01\.txt:\d+: class folder 'sword exercise' is not in .*hmdb51_org"):
        ucf_style_index(root, HMDB51_LISTS, 1)
