"""The downstream folders parse by the official UCF101 / HMDB51 formats (and the curated CSV)."""

from __future__ import annotations

import csv
import re

from noisyactions.video.decode import read_all_frames


def test_ucf101_follows_ucftraintestlist(tiny_config, tiny_world):
    root = tiny_world.downstream("ucf101")
    lists = root / "ucfTrainTestlist"
    raw = (lists / "classInd.txt").read_bytes()
    assert raw.endswith(b"\r\n") and b"\r\n" in raw, "official lists use CRLF line ends"
    class_ind = dict(line.split(" ") for line in raw.decode().splitlines())
    names = list(class_ind.values())
    assert [int(k) for k in class_ind] == list(range(1, len(names) + 1))
    assert names == sorted(names, key=str.lower)
    ids = {name: int(k) for k, name in class_ind.items()}
    cfg = tiny_config["world"]["ucf101"]
    per_class = cfg["groups"] * cfg["clips_per_group"]
    for split in (1, 2, 3):
        train = (lists / f"trainlist0{split}.txt").read_text().splitlines()
        test = (lists / f"testlist0{split}.txt").read_text().splitlines()
        assert len(train) + len(test) == per_class * len(names)
        assert not {line.split(" ")[0] for line in train} & set(test)
        for line in train:
            relative, label = line.split(" ")
            folder = relative.split("/")[0]
            assert ids[folder] == int(label)
            assert re.fullmatch(r"[A-Za-z]+/v_[A-Za-z]+_g\d\d_c\d\d\.avi", relative)
            assert (root / "UCF-101" / relative).is_file()
        for relative in test:
            assert " " not in relative and (root / "UCF-101" / relative).is_file()
        train_groups = {re.search(r"_g(\d\d)_", line).group(1) for line in train}
        test_groups = {re.search(r"_g(\d\d)_", line).group(1) for line in test}
        assert not train_groups & test_groups, "UCF101 holds out whole groups"


def test_hmdb51_follows_testtrainmulti_splits(tiny_config, tiny_world):
    root = tiny_world.downstream("hmdb51")
    cfg = tiny_config["world"]["hmdb51"]
    split_files = sorted((root / "testTrainMulti_7030_splits").glob("*_test_split*.txt"))
    assert len(split_files) == 3 * cfg["classes"]
    for path in split_files:
        name, split = re.fullmatch(r"(.+)_test_split([123])\.txt", path.name).groups()
        lines = path.read_text().splitlines()
        tags = [int(line.split(" ")[1]) for line in lines]
        assert all(line.endswith(" ") for line in lines), "official lines end in a space"
        assert tags.count(1) == cfg["train_per_class"] and tags.count(2) == cfg["test_per_class"]
        assert tags.count(0) == cfg["unused_per_class"]
        for line in lines:
            assert (root / "hmdb51_org" / name / line.split(" ")[0]).is_file()


def test_curated_csv_lists_existing_videos(tiny_config, tiny_world):
    root = tiny_world.downstream("curated")
    cfg = tiny_config["world"]["curated"]
    for split, per_class in (("train", cfg["train_per_class"]), ("val", cfg["val_per_class"])):
        with open(root / f"{split}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == per_class * cfg["classes"]
        for row in rows:
            assert read_all_frames(root / row["path"]).shape[0] == tiny_config["world"]["video"]["frames"]
        assert len({row["label"] for row in rows}) == cfg["classes"]
