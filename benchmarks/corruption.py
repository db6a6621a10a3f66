"""Video-file corruption (App. B.2, Table 7) in MB/s on one core: the flips alone, and a corrupted copy
of a dataset folder end to end.

1. flip_random_bits at p = 1e-4 and flip_contiguous at 0.75 on an in-memory buffer (default 64 MB of
   random bytes, its pages touched before timing); best of --repeats.
2. corrupt_tree over --files files of --file-mb MB (UCF101's videos are ~0.6 MB on average, HMDB51's
   larger) in a temporary folder: every file read, corrupted and written atomically (fsync and rename),
   page cache warm, for both modes; MB of source per wall-clock second, and per CPU-second of this
   process (what other jobs on the machine take does not count there).

Target: flip_random_bits >= 200 MB/s on one core at p = 1e-4.

    python benchmarks/corruption.py [--buffer-mb 64] [--files 200] [--file-mb 1.5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.robustness.corruption import corrupt_tree, flip_contiguous, flip_random_bits  # noqa: E402
from machine import machine_line  # noqa: E402 (benchmarks/ is on sys.path when a benchmark runs)

RANDOM_P, CONTIGUOUS_FRACTION = 1e-4, 0.75


SOFTWARE = f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__}; one process, one core"  # what this benchmark's figures depend on, for the machine line


def best_rate(flip, megabytes: float, repeats: int) -> float:
    """MB/s of the fastest of `repeats` calls: the one least disturbed by other work on the machine."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        flip()
        best = min(best, time.perf_counter() - started)
    return megabytes / best


def write_sources(root: Path, files: int, size: int) -> list[str]:
    """`files` files of random bytes (incompressible, like encoded video) in a few class folders."""
    rng = np.random.default_rng(0)
    names = []
    for k in range(files):
        relative = f"Class{k % 10:02d}/v_Class{k % 10:02d}_g{k:03d}_c01.avi"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        names.append(relative)
    return names


def tree_rates(root: Path, names: list[str], mode: str, p: float, megabytes: float) -> tuple[float, float]:
    """(MB/s wall clock, MB/s per CPU-second) of one corrupted copy of the whole folder, every file corrupted."""
    wall, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stderr(io.StringIO()):  # tqdm's bar: not part of the figures
        corrupt_tree(root / "source", root / f"copy_{mode}", names, mode, p, seed=0)
    return megabytes / (time.perf_counter() - wall), megabytes / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buffer-mb", type=int, default=64)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--file-mb", type=float, default=1.5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(machine_line(SOFTWARE))

    buffer = np.random.default_rng(0).integers(0, 256, args.buffer_mb << 20, dtype=np.uint8)
    rng = np.random.default_rng(1)
    mb = buffer.nbytes / 2**20
    random_rate = best_rate(lambda: flip_random_bits(buffer, RANDOM_P, rng), mb, args.repeats)
    contiguous_rate = best_rate(lambda: flip_contiguous(buffer, CONTIGUOUS_FRACTION, rng), mb, args.repeats)
    print(f"flip_random_bits  p = {RANDOM_P:g}, {args.buffer_mb} MB buffer: {random_rate:8.0f} MB/s (target >= 200)")
    print(f"flip_contiguous   p = {CONTIGUOUS_FRACTION:g}, {args.buffer_mb} MB buffer: {contiguous_rate:8.0f} MB/s")

    size = int(args.file_mb * 2**20)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        names = write_sources(root / "source", args.files, size)
        total = args.files * size / 2**20
        for mode, p in (("random", RANDOM_P), ("contiguous", CONTIGUOUS_FRACTION)):
            wall, cpu = tree_rates(root, names, mode, p, total)
            print(f"corrupt_tree {mode:10s} p = {p:g}, {args.files} files x {args.file_mb:g} MB (read + corrupt + atomic write): "
                  f"{wall:6.0f} MB/s wall, {cpu:6.0f} MB/s per CPU-second")


if __name__ == "__main__":
    main()
