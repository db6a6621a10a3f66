"""The authors' published 25K/100K lists against a crawl that lacks some of their videos.

Runs the `splits` job (dataset.splits.source: official) on the published lists with a dataset table
that has every listed video but a random `--missing` fraction: the lists are read, the missing videos
skipped and counted, the label rule applied, the restricted lists and the coverage report written.
Get the lists from the authors' repository (Data/noisyActionsMultiTrainTestList).

    python benchmarks/official_splits.py --lists FOLDER [--missing 0.02]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.dataset.official_splits import official_source_config, table_lacking  # noqa: E402
from noisyactions.dataset.run import splits  # noqa: E402
from noisyactions.label_lists import label_list_paths, read_label_indices  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=Path, required=True, help="folder with trainlist{25k,100k}.txt and classInd{25k,100k}.txt")
    parser.add_argument("--missing", type=float, default=0.02, help="fraction of the 100K's videos the synthetic crawl lacks")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    ids, _ = read_label_indices(label_list_paths(args.lists, "100k")[0])
    table, _ = table_lacking(ids, args.missing)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pq.write_table(table, tmp / "table.parquet")
        started = time.perf_counter()
        splits(tmp / "table.parquet", official_source_config(args.lists, 1.0), 10, "benchmark", tmp / "splits",
               {kind: tmp / f"coverage.{kind}" for kind in ("csv", "json", "md")})
        print(f"official splits, 25K + 100K, {args.missing:.0%} missing: {time.perf_counter() - started:.1f} s")
        print((tmp / "coverage.md").read_text())


if __name__ == "__main__":
    main()
