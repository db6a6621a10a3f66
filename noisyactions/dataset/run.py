"""The dataset stage's Snakemake jobs, one function each; scripts in scripts/ only pass paths and config.

The figures' job is figures.draw_figure and the entity job entities.write_entities: they run in other
conda envs (plots, torch), which lack this module's dependencies (tests/test_envs.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from noisyactions.atomic import atomic_write_bytes
from noisyactions.dataset.comparison import table1_frame
from noisyactions.dataset.official_splits import official_splits, write_official_split
from noisyactions.dataset.splits import downloaded_ids, richness_splits
from noisyactions.dataset.statistics import table2_caption, table2_frame, table2_statistics
from noisyactions.dataset.table import build_dataset_table, write_table
from noisyactions.label_lists import label_list_paths, write_label_list
from noisyactions.list_coverage import ListCoverage, check_missing, write_coverage_report
from noisyactions.tables import write_paper_table
from noisyactions.vocabulary import build_vocabulary, read_labels, write_vocabulary

log = logging.getLogger(__name__)


def download_file(url: str | None, path: Path, what: str) -> None:
    import requests  # only here: the rules that import this module run in envs without it (envs/*.yaml)

    if not url:
        raise FileNotFoundError(f"{path} is missing and {what} names no url to download it from")
    response = requests.get(url, timeout=60)
    response.raise_for_status()
    atomic_write_bytes(path, response.content)


def vocabulary(config: dict, queries_path: Path, labels_path: Path) -> None:
    built = build_vocabulary(config["class_lists"], config["sentences"])
    write_vocabulary(built, queries_path, labels_path)
    log.info("vocabulary: %d class queries, %d labels, %d sentence queries", (built.queries["kind"] == "class").sum(),
             built.labels["label"].nunique(), (built.queries["kind"] == "sentence").sum())


def dataset_table(shards: list[Path], labels_path: Path, downloads: Path, min_videos: int, out: Path) -> None:
    table = build_dataset_table(shards, read_labels(labels_path), min_videos, downloads)
    write_table(table, out)
    log.info("dataset table: %d videos", table.num_rows)


def table1(table_path: Path, scale: str, stamp: str, outputs: dict) -> None:
    """`scale` names our row; `stamp` (provenance) ends the caption."""
    frame = table1_frame(pq.read_table(table_path), scale)
    write_paper_table(frame, outputs, "Table 1: A comparison of datasets used for video understanding.", stamp)


def table2(table_path: Path, entities_path: Path, scale: str, stamp: str, outputs: dict) -> None:
    statistics = table2_statistics(pq.read_table(table_path), pq.read_table(entities_path))
    caption = f"Table 2: Some statistics from NoisyActions2M. {table2_caption(statistics)}"
    write_paper_table(table2_frame(statistics.values, scale), outputs, caption, stamp)


def _official_splits(table: pa.Table, config: dict, min_videos: int, out_dir: Path) -> list[ListCoverage]:
    root = Path(config["official"]["root"])
    for name in config["sizes"]:
        for path in label_list_paths(root, name):
            if not path.is_file():
                raise FileNotFoundError(f"dataset.splits.official.root: {path} is missing (get it from {config['official']['url']})")
    found = official_splits(root, list(config["sizes"]), downloaded_ids(table), min_videos)
    for name, split in found.items():
        log.info("split %s (official): %s", name, split.coverage.row())
    for name, split in found.items():
        check_missing(split.coverage, config["official"]["max_missing_fraction"], split.missing_ids)
        write_official_split(split, root, name, out_dir)
    return [split.coverage for split in found.values()]


def _richness_splits(table: pa.Table, config: dict, out_dir: Path) -> list[ListCoverage]:
    """Found is counted against the table's downloaded files, like the official lists', not assumed."""
    available, coverages = downloaded_ids(table), []
    for name, (ids, labels) in richness_splits(table, config["sizes"], config["required_fields"]).items():
        list_path, class_index_path = label_list_paths(out_dir, name)
        write_label_list(ids, labels, list_path, class_index_path)
        coverages.append(ListCoverage(name, str(list_path), len(ids), sum(i in available for i in ids)))
        log.info("split %s: %s", name, coverages[-1].row())
    return coverages


def splits(table_path: Path, config: dict, min_videos: int, scale: str, out_dir: Path, report: dict) -> None:
    """Write each split in the authors' format, computed by richness or the authors' lists restricted to the
    videos the dataset has, and the report of what each holds (listed, found, missing, dropped, kept)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if config["source"] == "official":
        coverages = _official_splits(pq.read_table(table_path, columns=["photo_id", "video_path"]), config, min_videos, out_dir)
    else:
        coverages = _richness_splits(pq.read_table(table_path), config, out_dir)
    write_coverage_report(coverages, report["csv"], report["json"], report["md"], f"NoisyActions splits ({config['source']}) against the dataset, {scale}")
