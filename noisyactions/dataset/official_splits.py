"""The authors' published 25K/100K lists (dataset.splits.source: official) against the videos we have.

A listed video counts as found when the dataset table has it with a downloaded file; the others are
skipped and counted (Flickr videos vanish; noisyactions.list_coverage). The paper's rule "only classes
with more than 10 videos" (dataset.min_videos_per_class) is then applied to the authors' labels,
counting each label's found videos over all the lists (the largest first: the published 25K is a
subset of the 100K, so the counts are the 100K's); a video left without a label is dropped. On the
published lists with every video found this drops 393 of the 100K's 99,356 videos and 72 of the
25K's.

Written per split: the authors' lines for the kept videos, with their label indices in their order
(the class index is copied unchanged, so indices stay theirs), and the coverage report.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from noisyactions.atomic import atomic_path
from noisyactions.label_lists import label_list_paths, read_label_list_with_indices, write_label_indices
from noisyactions.list_coverage import ListCoverage


@dataclass(frozen=True)
class OfficialSplit:
    ids: list[str]
    indices: list[list[str]]  # label indices into the split's class index, the authors' order
    coverage: ListCoverage
    missing_ids: list[str]


def official_splits(root: Path, names: list[str], available: set[str], min_videos: int) -> dict[str, OfficialSplit]:
    """Each split restricted to the `available` video ids and to labels with more than `min_videos` of them."""
    lists = {}
    for name in names:
        list_path, class_index_path = label_list_paths(root, name)
        lists[name] = (list_path, *read_label_list_with_indices(list_path, class_index_path))
    labels_of: dict[str, set[str]] = {}
    for name in sorted(names, key=lambda n: -len(lists[n][1])):
        _, ids, _, label_rows = lists[name]
        for photo_id, labels in zip(ids, label_rows):
            if photo_id in available:
                labels_of.setdefault(photo_id, set(labels))
    videos_per_label = Counter(label for labels in labels_of.values() for label in labels)
    splits = {}
    for name, (list_path, ids, indices, label_rows) in lists.items():
        found = [k for k, photo_id in enumerate(ids) if photo_id in available]
        rows = {k: [i for i, label in zip(indices[k], label_rows[k]) if videos_per_label[label] > min_videos] for k in found}
        kept = [k for k in found if rows[k]]
        coverage = ListCoverage(name, str(list_path), len(ids), len(found), len(found) - len(kept))
        splits[name] = OfficialSplit([ids[k] for k in kept], [rows[k] for k in kept], coverage, [i for i in ids if i not in available])
    return splits


def write_official_split(split: OfficialSplit, root: Path, name: str, out_dir: Path) -> None:
    list_path, class_index_path = label_list_paths(root, name)
    write_label_indices(split.ids, split.indices, out_dir / list_path.name)
    with atomic_path(out_dir / class_index_path.name) as tmp:
        shutil.copyfile(class_index_path, tmp)


def table_lacking(ids: list[str], fraction: float, seed: int = 0) -> tuple[pa.Table, set[str]]:
    """A dataset table (photo_id, video_path) with a downloaded file for every listed video but a random
    `fraction`, and the ids it lacks: a crawl made after some of the authors' videos vanished, for the
    tests and benchmarks/official_splits.py to run the splits job on."""
    missing = set(np.random.default_rng(seed).choice(ids, size=round(fraction * len(ids)), replace=False).tolist())
    return pa.table({"photo_id": ids, "video_path": [None if i in missing else f"videos/{i}.mp4" for i in ids]}), missing


def official_source_config(root: Path, max_missing_fraction: float) -> dict:
    """The dataset.splits section that reads the authors' 25K and 100K lists from `root` (no download)."""
    return {"source": "official", "sizes": {"25k": 25_000, "100k": 100_000},
            "official": {"root": str(root), "url": None, "max_missing_fraction": max_missing_fraction}}
