"""Downstream datasets in the exact on-disk formats of UCF101, HMDB51 and a Kinetics-style CSV.

Their classes are web concepts rendered in their own appearance style with few training videos per
class, so pretraining on the noisy web corpus has something to give, as in the paper. The split files
follow the official formats byte for byte (CRLF line ends in ucfTrainTestlist, the trailing space in
HMDB51's split lines, the HandstandPushups file-name quirk) so that the real loaders run on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from noisyactions.atomic import atomic_write_text
from noisyactions.world.concepts import CONVENTIONS, Concept

DOWNSTREAM_STREAM = {"ucf101": 2, "hmdb51": 3, "curated": 4}


@dataclass(frozen=True)
class RenderJob:
    """One video to draw and encode: picklable, so a process pool can run it."""

    concept_index: int
    style: str
    seed: tuple[int, ...]
    path: Path


def in_class_list(convention: str, concept: Concept) -> bool:
    """Which concepts each naming convention's class list holds: overlapping subsets covering all."""
    i = concept.index
    in_ucf, in_hmdb = i % 3 != 2, i % 2 == 0
    if convention == "ucf101":
        return in_ucf
    if convention == "hmdb51":
        return in_hmdb
    return i % 4 != 1 or not (in_ucf or in_hmdb)


def class_lists(concepts: list[Concept]) -> dict[str, list[str]]:
    return {conv: [c.name_in(conv) for c in concepts if in_class_list(conv, c)] for conv in CONVENTIONS}


def _pick_classes(concepts: list[Concept], convention: str, count: int, seed: int) -> list[Concept]:
    members = [c for c in concepts if in_class_list(convention, c)]
    if count > len(members):
        raise ValueError(
            f"world.{convention}.classes = {count}, but only {len(members)} of the world's concepts carry "
            f"{convention} names; raise world.concepts or lower world.{convention}.classes"
        )
    rng = np.random.default_rng([seed, DOWNSTREAM_STREAM.get(convention, 5)])
    chosen = sorted(rng.choice(len(members), size=count, replace=False))
    return [members[i] for i in chosen]


def _write_crlf(path: Path, lines: list[str]) -> None:
    atomic_write_text(path, "".join(f"{line}\r\n" for line in lines))


def plan_ucf101(concepts: list[Concept], cfg: dict, seed: int, root: Path) -> list[RenderJob]:
    """Write ucfTrainTestlist/ and return the videos to render under UCF-101/<Class>/."""
    classes = sorted(_pick_classes(concepts, "ucf101", cfg["classes"], seed), key=lambda c: c.name_in("ucf101").lower())
    class_ids = {c.name_in("ucf101"): k + 1 for k, c in enumerate(classes)}
    jobs, files = [], {}
    for concept in classes:
        name = concept.name_in("ucf101")
        file_token = "HandStandPushups" if name == "HandstandPushups" else name
        for group in range(1, cfg["groups"] + 1):
            for clip in range(1, cfg["clips_per_group"] + 1):
                relative = f"{name}/v_{file_token}_g{group:02d}_c{clip:02d}.avi"
                files[relative] = (name, group)
                seed_key = (seed, DOWNSTREAM_STREAM["ucf101"], concept.index, group, clip)
                jobs.append(RenderJob(concept.index, "ucf101", seed_key, root / "UCF-101" / relative))
    lists = root / "ucfTrainTestlist"
    _write_crlf(lists / "classInd.txt", [f"{k} {name}" for name, k in class_ids.items()])
    for split in (1, 2, 3):
        # One group in four is held out, rotating with the split, as UCF101 holds out 7 of 25 groups.
        test = [rel for rel, (_, g) in files.items() if (g - 1) % 4 == split - 1]
        train = [f"{rel} {class_ids[name]}" for rel, (name, g) in files.items() if (g - 1) % 4 != split - 1]
        _write_crlf(lists / f"trainlist0{split}.txt", train)
        _write_crlf(lists / f"testlist0{split}.txt", test)
    return jobs


def plan_hmdb51(concepts: list[Concept], cfg: dict, seed: int, root: Path) -> list[RenderJob]:
    """Write testTrainMulti_7030_splits/ and return the videos to render under hmdb51_org/<class>/."""
    classes = _pick_classes(concepts, "hmdb51", cfg["classes"], seed)
    per_class = cfg["train_per_class"] + cfg["test_per_class"] + cfg["unused_per_class"]
    tags = [1] * cfg["train_per_class"] + [2] * cfg["test_per_class"] + [0] * cfg["unused_per_class"]
    jobs = []
    for concept in classes:
        name = concept.name_in("hmdb51")
        files = [
            f"Clip{concept.index:02d}{k:03d}_{name}_{'fhu'[k % 3]}_nm_np1_{('fr', 'ba', 'le')[k % 3]}_goo_{k}.avi"
            for k in range(per_class)
        ]
        for k, file in enumerate(files):
            seed_key = (seed, DOWNSTREAM_STREAM["hmdb51"], concept.index, k)
            jobs.append(RenderJob(concept.index, "hmdb51", seed_key, root / "hmdb51_org" / name / file))
        for split in (1, 2, 3):
            shift = (split - 1) * cfg["test_per_class"]
            lines = [f"{file} {tags[(k + shift) % per_class]} " for k, file in enumerate(files)]
            atomic_write_text(root / "testTrainMulti_7030_splits" / f"{name}_test_split{split}.txt", "\n".join(lines) + "\n")
    return jobs


def plan_curated(concepts: list[Concept], cfg: dict, seed: int, root: Path) -> list[RenderJob]:
    """Write train.csv / val.csv (path,label) and return the videos to render under videos/."""
    classes = _pick_classes(concepts, "kinetics", cfg["classes"], seed)
    jobs, rows = [], {"train": [], "val": []}
    for concept in classes:
        label = concept.name_in("kinetics")
        folder = label.replace(" ", "_").replace("(", "").replace(")", "")
        for k in range(cfg["train_per_class"] + cfg["val_per_class"]):
            split = "train" if k < cfg["train_per_class"] else "val"
            youtube_like_id = f"{concept.index:03d}x{k:07d}"
            relative = f"videos/{folder}/{youtube_like_id}_{10 * k:06d}_{10 * k + 10:06d}.mp4"
            rows[split].append(f'{relative},"{label}"')
            jobs.append(RenderJob(concept.index, "curated", (seed, DOWNSTREAM_STREAM["curated"], concept.index, k), root / relative))
    for split, lines in rows.items():
        atomic_write_text(root / f"{split}.csv", "path,label\n" + "\n".join(lines) + "\n")
    return jobs
