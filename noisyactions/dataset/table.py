"""The dataset table: one row per collected video with its metadata and lemmatised multi-labels.

Columns (parquet):
  photo_id, owner, title, description, tags (list), comments (list of comment texts), comment_count,
  date_upload (unix s), date_taken, latitude, longitude, country, country_code (reverse-geocoded from
  the coordinates, offline), duration (s), width, height, license, views, page_url,
  sources (list of {label, width, height, url}), concepts (the class queries that found the video),
  sentences (the sentence queries that found it), labels (lemmatised concepts, only classes with more
  than `min_videos` videos), video_path (the downloaded file, when there is one).

Only videos whose crawl status is ok and that keep a label or a sentence are in it (paper Sec. 3).
A video's labels keep the order of its `concepts`, the order the crawl found its queries in (a label
two concepts lemmatise to stays at its first place): CCE-Mask picks labels in that order.

Videos found only by sentence queries (App. A.1: "around 0.05 million videos are also collected using
long sentence queries") stay, with their sentences and an empty `labels`: they have no class label. They
count in the dataset's size and in every statistic that is not about labels (Table 1's videos, Table 2's
durations, countries, tags, comments, entities), they are there for self-supervised pretraining, and they
are in no multi-label split and no labels-per-video average (Table 2's caption states each denominator).
A video whose classes all fall under `min_videos` but that has a sentence stays the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import reverse_geocode

from noisyactions.atomic import atomic_path
from noisyactions.crawl.records import OK, RECORD_SCHEMA
from noisyactions.dataset.columns import non_empty
from noisyactions.vocabulary import lemmatise

REQUIRED = ("photo_id", "status", "title", "description", "tags", "comments", "comment_count", "date_upload", "latitude",
            "longitude", "duration", "concepts", "sentences")
KEPT = ("photo_id", "owner", "title", "description", "tags", "comment_count", "date_upload", "date_taken", "latitude",
        "longitude", "duration", "width", "height", "license", "views", "page_url", "sources", "concepts", "sentences")


class DatasetError(ValueError):
    pass


def _check_shard(table: pa.Table, shard: Path) -> None:
    missing = [c for c in REQUIRED if c not in table.column_names]
    if missing:
        raise DatasetError(f"{shard}: missing field(s) {missing}; expected the crawl's record schema")
    checks = [
        ("photo_id is not a Flickr id", pc.invert(pc.fill_null(pc.match_substring_regex(table["photo_id"], r"^\d+$"), False))),
        ("status is empty", pc.is_null(table["status"])),
        ("concepts is null", pc.is_null(table["concepts"])),
    ]
    ok = pc.equal(table["status"], OK)
    checks += [
        ("an ok record has no title", pc.and_(ok, pc.is_null(table["title"]))),
        ("an ok record has no duration", pc.and_(ok, pc.is_null(table["duration"]))),
        ("an ok record has a negative duration", pc.and_(ok, pc.less(pc.fill_null(table["duration"], 0), 0))),
    ]
    for problem, bad in checks:
        bad = pc.fill_null(bad, True)
        if pc.any(bad).as_py():
            row = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
            raise DatasetError(f"{shard}: row {row} (photo_id {table['photo_id'][row].as_py()!r}): {problem}")


def read_crawl(shards: list[Path]) -> pa.Table:
    """The ok records of every metadata shard, checked; errors name the shard and the row."""
    tables = []
    for shard in sorted(shards):
        try:
            table = pq.read_table(shard)
        except (OSError, pa.ArrowInvalid) as error:
            raise DatasetError(f"{shard}: not a readable parquet file ({error})") from None
        _check_shard(table, shard)
        ok = table.filter(pc.equal(table["status"], OK))
        tables.append(ok.select([c for c in KEPT + ("comments",) if c in ok.column_names]))
    if not tables or sum(t.num_rows for t in tables) == 0:
        raise DatasetError(f"the crawl has no video with status ok ({len(shards)} shard(s): {[str(s) for s in sorted(shards)][:3]}...)")
    return pa.concat_tables(tables, promote_options="default")


def _countries(latitude: pa.ChunkedArray, longitude: pa.ChunkedArray) -> tuple[list, list]:
    lat = np.asarray(latitude.to_numpy(zero_copy_only=False), dtype=float)
    lon = np.asarray(longitude.to_numpy(zero_copy_only=False), dtype=float)
    where = np.flatnonzero(~np.isnan(lat) & ~np.isnan(lon))
    names: list = [None] * len(lat)
    codes: list = [None] * len(lat)
    if len(where):
        for index, place in zip(where, reverse_geocode.search(list(zip(lat[where], lon[where])))):
            names[index], codes[index] = place["country"], place["country_code"]
    return names, codes


def build_dataset_table(shards: list[Path], label_of: dict[str, str], min_videos: int, downloads: Path | None = None) -> pa.Table:
    crawl = read_crawl(shards)
    concepts = crawl["concepts"].to_pylist()
    labels = [list(dict.fromkeys(label_of.get(c) or lemmatise(c) for c in row)) for row in concepts]
    flat = pa.chunked_array([pa.array([label for row in labels for label in row], pa.string())])
    counts = pc.value_counts(flat)
    kept = {v["values"].as_py() for v in counts if v["counts"].as_py() > min_videos}
    if not kept:
        raise DatasetError(f"no class has more than dataset.min_videos_per_class = {min_videos} videos")
    labels = [[label for label in row if label in kept] for row in labels]
    has_sentence = non_empty(crawl["sentences"]).to_numpy(zero_copy_only=False)
    keep = np.array([bool(row) for row in labels]) | has_sentence
    table = crawl.filter(pa.array(keep))
    labels = [row for row, k in zip(labels, keep) if k]
    names, codes = _countries(table["latitude"], table["longitude"])
    comments = [[c["content"] for c in row] for row in table["comments"].to_pylist()]
    table = table.drop_columns(["comments"]).append_column("comments", pa.array(comments, pa.list_(pa.string())))
    table = table.append_column("country", pa.array(names, pa.string())).append_column("country_code", pa.array(codes, pa.string()))
    table = table.append_column("labels", pa.array(labels, pa.list_(pa.string())))
    paths = [None] * table.num_rows
    if downloads is not None:
        done = pq.read_table(downloads, columns=["photo_id", "status", "path"]).to_pylist()
        by_id = {d["photo_id"]: d["path"] for d in done if d["status"] == OK}
        paths = [by_id.get(i) for i in table["photo_id"].to_pylist()]
    return table.append_column("video_path", pa.array(paths, pa.string()))


def write_table(table: pa.Table, path: Path) -> None:
    with atomic_path(Path(path)) as tmp:
        pq.write_table(table, tmp, compression="zstd")


assert set(REQUIRED) <= set(RECORD_SCHEMA.names)
