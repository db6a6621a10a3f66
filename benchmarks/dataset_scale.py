"""Dataset stage at paper scale: the dataset table, Table 2 and Figure 1 from 2,000,000 metadata rows.

Synthetic crawl shards in the crawl's own record schema (written by a child process, so the peak
memory below is the dataset stage's alone) with the paper's proportions: ~7,000 classes drawn Zipf-like,
4 labels per video on average, 48% with tags (12 on average), 12% with comments (5), 10% geotagged.
Target (issue 4): <= 5 minutes and <= 8 GB peak memory on the 2-core development machine. Table 2's
entity row needs the entity classifier, which is not part of this measurement.

    python benchmarks/dataset_scale.py [--rows 2000000] [--shards 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.crawl.records import RECORD_SCHEMA  # noqa: E402
from noisyactions.dataset.figures import figure1_label_distribution, save  # noqa: E402
from noisyactions.dataset.statistics import dataset_statistics, table2_frame  # noqa: E402
from noisyactions.dataset.table import build_dataset_table  # noqa: E402
from noisyactions.world.geo import PLACES  # noqa: E402

WORDS = np.array("summer fun travel family friends beach city music sport video hd park trip party kids nature".split())


def _lists(rng, rows, present_rate, mean, values):
    counts = np.where(rng.random(rows) < present_rate, rng.poisson(mean - 1, rows) + 1, 0)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), values(int(offsets[-1])))


def write_shard(path: Path, start: int, rows: int, classes: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    zipf = 1.0 / np.arange(1, len(classes) + 1) ** 1.1
    zipf /= zipf.sum()
    ids = pa.array((5_000_000_000 + start + np.arange(rows)).astype(str))
    geo = rng.random(rows) < 0.10
    places = np.array([(lat, lon) for *_, lat, lon in PLACES])[rng.integers(len(PLACES), size=rows)]
    jitter = rng.uniform(-0.15, 0.15, size=(rows, 2))
    columns = {
        "photo_id": ids,
        "status": pa.array(np.full(rows, "ok")),
        "error": pa.array(np.full(rows, "")),
        "title": pa.array(np.char.add("video ", WORDS[rng.integers(len(WORDS), size=rows)])),
        "description": pa.array(np.where(rng.random(rows) < 0.6, "Had a great time with friends near the lake.", "")),
        "tags": _lists(rng, rows, 0.48, 12, lambda n: pa.array(WORDS[rng.integers(len(WORDS), size=n)])),
        "comment_count": pa.array(np.zeros(rows, dtype=np.int32)),
        "date_upload": pa.array(rng.integers(1_200_000_000, 1_600_000_000, size=rows)),
        "latitude": pa.array(np.where(geo, places[:, 0] + jitter[:, 0], np.nan), from_pandas=True),
        "longitude": pa.array(np.where(geo, places[:, 1] + jitter[:, 1], np.nan), from_pandas=True),
        "duration": pa.array(np.where(rng.random(rows) < 0.86, rng.integers(3, 60, rows), 60 + rng.exponential(640, rows)).astype(np.int32)),
        "concepts": _lists(rng, rows, 1.0, 4, lambda n: pa.array(classes[rng.choice(len(classes), size=n, p=zipf)])),
        "sentences": _lists(rng, rows, 0.0, 1, lambda n: pa.array([], pa.string())),
    }
    comments = _lists(rng, rows, 0.12, 5, lambda n: pa.StructArray.from_arrays(
        [pa.array(np.arange(n).astype(str)), pa.array(np.full(n, "12345@N00")), pa.array(np.full(n, "user")),
         pa.array(np.full(n, 1_500_000_000, dtype=np.int64)), pa.array(np.full(n, "Great video"))],
        fields=list(RECORD_SCHEMA.field("comments").type.value_type)))
    columns["comments"] = comments
    arrays = [columns[f.name].cast(f.type) if f.name in columns else pa.nulls(rows, f.type) for f in RECORD_SCHEMA]
    pq.write_table(pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA), path)


def generate(folder: Path, rows: int, shards: int) -> None:
    classes = np.array([f"class {k:05d}" for k in range(7000)])
    per_shard = -(-rows // shards)
    for shard in range(shards):
        start = shard * per_shard
        write_shard(folder / f"shard-{shard:05d}.parquet", start, min(per_shard, rows - start), classes, seed=shard)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--shards", type=int, default=20)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        child = multiprocessing.Process(target=generate, args=(folder, args.rows, args.shards))
        child.start()
        child.join()
        print(f"generated {args.rows:,} synthetic crawl rows in {args.shards} shards: {time.perf_counter() - started:.1f} s (not counted)")
        timings = {}
        started = time.perf_counter()
        table = build_dataset_table(sorted(folder.glob("shard-*.parquet")), {}, 10)
        timings["dataset table"] = time.perf_counter() - started
        started = time.perf_counter()
        stats = dataset_statistics(table)
        frame = table2_frame(stats, "synthetic benchmark")
        timings["Table 2"] = time.perf_counter() - started
        started = time.perf_counter()
        save(figure1_label_distribution(table, "synthetic benchmark"), folder / "figure1.pdf", folder / "figure1.png")
        timings["Figure 1"] = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    for name, seconds in timings.items():
        print(f"{name:<14} {seconds:7.1f} s")
    print(f"total          {sum(timings.values()):7.1f} s   (target <= 300 s)")
    print(f"peak memory    {peak_gb:7.2f} GB  (target <= 8 GB)")
    print(f"dataset: {table.num_rows:,} videos, {stats['Average # labels per Video']:.2f} labels/video, {stats['Total number of Countries']} countries")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
