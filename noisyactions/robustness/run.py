"""The robustness stage's Snakemake jobs (Sec. 4.3, App. B.2): UCF101 split 1 with noisy training labels,
a corrupted copy of its video files, and what the corruption left decodable."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from noisyactions.atomic import atomic_path, atomic_write_bytes, atomic_write_text
from noisyactions.robustness.corruption import corrupt_tree, decode_summary
from noisyactions.robustness.label_noise import make_noisy_trainlist
from noisyactions.tables import markdown_table
from noisyactions.video.indexes import ucf_style_index

log = logging.getLogger(__name__)


def ucf101_lists(ucf101: dict) -> tuple[Path, Path]:
    """(the split's training list, classInd.txt) of the configured UCF101 (datasets.ucf101)."""
    lists = Path(ucf101["lists"])
    return lists / f"trainlist0{ucf101['split']}.txt", lists / "classInd.txt"


def noisy_ucf101(ucf101: dict, rate: float, mode: str, seed: int, outputs: dict) -> dict:
    """UCF101's lists folder with `rate` of every class of the training list relabelled: the noisy
    trainlist, classInd and the untouched testlist, in UCF101's own format; and the noise's report."""
    trainlist, class_index = ucf101_lists(ucf101)
    reports = {key: outputs[key] for key in ("json", "per_class", "confusion", "heatmap")}
    summary = make_noisy_trainlist(trainlist, class_index, rate, mode, seed, Path(outputs["trainlist"]), reports)
    for name in ("class_index", "testlist"):  # byte for byte (UCF101's lists end their lines with CRLF)
        source = class_index if name == "class_index" else trainlist.with_name(f"testlist0{ucf101['split']}.txt")
        atomic_write_bytes(outputs[name], source.read_bytes())
    log.info("%s: %s", outputs["trainlist"], summary)
    return summary


def corrupt_ucf101(ucf101: dict, mode: str, p: float, splits: list[str], seed: int, out_videos: Path, record: Path) -> pd.DataFrame:
    """A copy of UCF101's video folder with the files of `splits` corrupted (the originals are only
    read); one row per corrupted file, written to `record`."""
    videos = Path(ucf101["videos"])
    index = ucf_style_index(videos, Path(ucf101["lists"]), ucf101["split"]).videos
    chosen = index[index["split"].isin(splits)]
    relative = [Path(path).relative_to(videos).as_posix() for path in chosen["path"]]
    flips = corrupt_tree(videos, out_videos, relative, mode, p, seed)
    with atomic_path(record) as tmp:
        flips.to_parquet(tmp)
    log.info("%s corruption (p = %g) of %d %s videos into %s", mode, p, len(relative), "+".join(splits), out_videos)
    return flips


def corruption_report(indexes: dict[str, Path], outputs: dict) -> pd.DataFrame:
    """Per corruption mode and split: how many videos still decode fully, partly, not at all (the
    cache's decode status of every video of the corrupted copy)."""
    frames = [decode_summary(pd.read_parquet(path, columns=["split", "status"])).assign(corruption=name) for name, path in indexes.items()]
    report = pd.concat(frames, ignore_index=True)
    report = report[["corruption", *[c for c in report.columns if c != "corruption"]]]
    atomic_write_text(outputs["csv"], report.to_csv(index=False))
    atomic_write_text(outputs["md"], "**Video corruption: decode status of every video of each corrupted copy of UCF101.**\n\n"
                      + markdown_table(report) + "\n")
    return report
