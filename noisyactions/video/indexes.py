"""Which videos, labels and splits each benchmark dataset has, read from its official files.

Every dataset becomes the same index: one row per video with `path`, `target` (a class id, or a
list of class ids for multi-label NoisyActions), `split` ("train" / "test"), and the class names.
Real folders and the embedded world's go through the same code; only config paths differ.
A video a benchmark's lists name but the disk lacks is an error naming the file. NoisyActions is the
exception: its videos come from Flickr, where they vanish, so a listed video without a downloaded file
is skipped and counted (noisyactions.list_coverage).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from noisyactions.label_lists import class_index_lines, read_class_index, read_label_list
from noisyactions.list_coverage import ListCoverage, check_missing


class VideoIndexError(ValueError):
    pass


@dataclass(frozen=True)
class VideoIndex:
    videos: pd.DataFrame  # path, target, split
    classes: list[str]
    multi_label: bool = False
    coverage: ListCoverage | None = None  # NoisyActions: how many listed videos were found

    def split(self, name: str) -> pd.DataFrame:
        return self.videos[self.videos["split"] == name].reset_index(drop=True)


def _require(paths: list[Path], listed_in: Path) -> None:
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise VideoIndexError(f"{missing[0]} is listed in {listed_in} but does not exist ({len(missing)} missing)")


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise VideoIndexError(f"{path} does not exist")
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class _ClassFolders:
    """A list's class folder -> the folder on disk. The authors' HMDB51 lists name classes with spaces
    ("climb stairs/...") where hmdb51_org has underscores ("climb_stairs/"); UCF101's names match."""

    def __init__(self, videos_root: Path):
        self.videos_root, self.found = videos_root, {}

    def __call__(self, folder: str, list_path: Path, number: int) -> str:
        if folder not in self.found:
            candidates = dict.fromkeys([folder, folder.replace(" ", "_")])
            on_disk = [c for c in candidates if (self.videos_root / c).is_dir()]
            if not on_disk:
                raise VideoIndexError(f"{list_path}:{number}: class folder {folder!r} is not in {self.videos_root} "
                                      f"(looked for {', '.join(repr(c) for c in candidates)})")
            self.found[folder] = on_disk[0]
        return self.found[folder]


def ucf_style_index(videos_root: Path, lists_root: Path, split: int = 1) -> VideoIndex:
    """UCF101's ucfTrainTestlist (and the authors' HMDB51 lists in that format): classInd ids, 1-based,
    not sorted folder names (they differ for 4 UCF101 classes). Labels come from the folder in the
    list, so UCF101's HandstandPushups folder holding v_HandStandPushups_* files is read right; a
    list's class name with spaces is found in the folder with underscores (HMDB51's real layout)."""
    class_ind = lists_root / "classInd.txt"
    if not class_ind.is_file():
        raise VideoIndexError(f"{class_ind} does not exist")
    ids = {name: int(index) - 1 for _, index, name in class_index_lines(class_ind)}
    rows = []
    class_folder = _ClassFolders(videos_root)
    for kind, list_name in (("train", f"trainlist0{split}.txt"), ("test", f"testlist0{split}.txt")):
        list_path = lists_root / list_name
        for number, line in enumerate(_lines(list_path), start=1):
            relative = line.rsplit(" ", 1)[0] if kind == "train" or re.search(r" \d+$", line) else line
            folder, _, file_name = relative.partition("/")
            if folder not in ids:
                raise VideoIndexError(f"{list_path}:{number}: class folder {folder!r} is not in classInd.txt")
            if kind == "train" and int(line.rsplit(" ", 1)[1]) - 1 != ids[folder]:
                raise VideoIndexError(f"{list_path}:{number}: label {line.rsplit(' ', 1)[1]} disagrees with classInd for {folder}")
            path = videos_root / class_folder(folder, list_path, number) / file_name
            rows.append({"path": str(path), "target": ids[folder], "split": kind})
    frame = pd.DataFrame(rows)
    _require([Path(p) for p in frame["path"]], lists_root)
    return VideoIndex(frame, [name for name, _ in sorted(ids.items(), key=lambda kv: kv[1])])


def hmdb51_official_index(videos_root: Path, splits_root: Path, split: int = 1) -> VideoIndex:
    """HMDB51's testTrainMulti_7030_splits: <class>_test_split<k>.txt, tag 1 = train, 2 = test, 0 = unused.
    Classes are numbered in sorted order of their names (HMDB51 publishes no class index)."""
    files = sorted(splits_root.glob(f"*_test_split{split}.txt"))
    if not files:
        raise VideoIndexError(f"{splits_root} has no *_test_split{split}.txt files")
    classes = sorted(f.name[: -len(f"_test_split{split}.txt")] for f in files)
    rows = []
    for target, name in enumerate(classes):
        list_path = splits_root / f"{name}_test_split{split}.txt"
        for number, line in enumerate(_lines(list_path), start=1):
            parts = line.split()
            if len(parts) != 2 or parts[1] not in {"0", "1", "2"}:
                raise VideoIndexError(f"{list_path}:{number}: expected '<file>.avi <0|1|2>', got {line!r}")
            if parts[1] != "0":
                rows.append({"path": str(videos_root / name / parts[0]), "target": target, "split": "train" if parts[1] == "1" else "test"})
    frame = pd.DataFrame(rows)
    _require([Path(p) for p in frame["path"]], splits_root)
    return VideoIndex(frame, classes)


def curated_index(root: Path) -> VideoIndex:
    """The curated set (the Kinetics-subset stand-in): train.csv and val.csv with `path,label`."""
    rows = []
    for kind, name in (("train", "train.csv"), ("test", "val.csv")):
        path = root / name
        if not path.is_file():
            raise VideoIndexError(f"{path} does not exist")
        with open(path, newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                if not row.get("path") or not row.get("label"):
                    raise VideoIndexError(f"{path}:{number}: needs path and label, got {row}")
                rows.append({"path": str(root / row["path"]), "label": row["label"], "split": kind})
    frame = pd.DataFrame(rows)
    classes = sorted(frame["label"].unique())
    frame["target"] = frame["label"].map({c: k for k, c in enumerate(classes)})
    _require([Path(p) for p in frame["path"]], root)
    return VideoIndex(frame[["path", "target", "split"]], classes)


def noisyactions_index(table: pd.DataFrame, list_path: Path, class_index_path: Path, max_missing_fraction: float | None = None) -> VideoIndex:
    """A NoisyActions split (authors' format) as multi-hot targets, with the videos the dataset table has.

    Listed videos the table has no downloaded file for are skipped and counted (`coverage`); more than
    `max_missing_fraction` of the list missing is an error naming the list (None: no limit here, the
    splits rule has applied dataset.splits.official.max_missing_fraction to the lists it wrote). Each
    video's targets keep the list's label order, repeats dropped (CCE-Mask picks labels in that order)."""
    ids, labels = read_label_list(list_path, class_index_path)
    classes = list(read_class_index(class_index_path).values())
    position = {name: k for k, name in enumerate(classes)}
    paths = {i: p for i, p in zip(table["photo_id"], table["video_path"]) if isinstance(p, str) and p}
    found = [k for k, i in enumerate(ids) if i in paths]
    coverage = ListCoverage(Path(list_path).stem, str(list_path), len(ids), len(found))
    check_missing(coverage, max_missing_fraction, [i for i in ids if i not in paths])
    targets = [list(dict.fromkeys(position[n] for n in labels[k])) for k in found]
    frame = pd.DataFrame({"path": [paths[ids[k]] for k in found], "target": targets, "split": "train"})
    _require([Path(p) for p in frame["path"]], list_path)
    return VideoIndex(frame, classes, multi_label=True, coverage=coverage)
