"""The video stage's Snakemake jobs: index a dataset from its official files, then cache it."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow.parquet as pq

from noisyactions.atomic import atomic_path, atomic_write_text
from noisyactions.video.cache import build_cache
from noisyactions.video.indexes import VideoIndex, curated_index, hmdb51_official_index, noisyactions_index, ucf_style_index

log = logging.getLogger(__name__)


def dataset_index(name: str, datasets: dict, dataset_table: Path | None = None, split_files: tuple[Path, Path] | None = None,
                  videos: Path | None = None) -> VideoIndex:
    """`videos`: the video folder of a copy of UCF101 (ucf101_<corruption>), read with UCF101's lists."""
    if name == "ucf101" or name.startswith("ucf101_"):
        cfg = datasets["ucf101"]
        if name != "ucf101" and videos is None:
            raise ValueError(f"{name}: a copy of UCF101 needs its video folder")
        return ucf_style_index(Path(videos or cfg["videos"]), Path(cfg["lists"]), cfg["split"])
    if name == "hmdb51":
        cfg = datasets["hmdb51"]
        read = hmdb51_official_index if cfg["format"] == "official" else ucf_style_index
        return read(Path(cfg["videos"]), Path(cfg["lists"]), cfg["split"])
    if name == "curated":
        return curated_index(Path(datasets["curated"]["root"]))
    if name == "noisyactions":
        table = pq.read_table(dataset_table, columns=["photo_id", "video_path"]).to_pandas()
        index = noisyactions_index(table, *split_files)
        log.info("noisyactions index: %s", index.coverage.row())
        return index
    raise ValueError(f"unknown dataset {name!r}")


def cache_dataset(index: VideoIndex, cache: dict, out_dir: Path, index_path: Path, classes_path: Path) -> None:
    """Cache every video; the index (path, target as class ids, split, cached, frames, status,
    decoded_fraction, error) and the class names in id order go beside it."""
    videos = build_cache(index.videos, out_dir, cache["short_side"], cache["format"], cache["gop"])
    videos["target"] = videos["target"].map(lambda t: [int(x) for x in t] if isinstance(t, list) else [int(t)])
    with atomic_path(index_path) as tmp:
        videos.to_parquet(tmp)
    atomic_write_text(classes_path, "".join(f"{name}\n" for name in index.classes))
    counts = videos["status"].value_counts()
    log.info("%s: %d videos: %d ok, %d partial (cached: decoded part-way), %d undecodable", out_dir.parent.name, len(videos),
             counts.get("ok", 0), counts.get("partial", 0), counts.get("undecodable", 0))
