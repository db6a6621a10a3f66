"""Wall time to generate the embedded world for a config (default: config/config.yaml).

Builds every part in a temporary folder with the same functions the Snakemake rules call, one part
after another, each with all cores. Target (issue 2): <= 60 s for the default config on the
2-core development machine.

    python benchmarks/world_generation.py [--config config/config.yaml]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.config import load_config  # noqa: E402
from noisyactions.world import build  # noqa: E402
from noisyactions.world.layout import WorldLayout  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    args = parser.parse_args()
    world = load_config(args.config)["world"]
    workers = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {workers} cores, Python {platform.python_version()}")
    video = world["video"]
    print(f"config: {args.config}: {world['web']['videos']} web videos, {video['width']}x{video['height']}x{video['frames']} frames")
    with tempfile.TemporaryDirectory() as tmp:
        layout = WorldLayout(tmp)
        steps = [
            ("web metadata", lambda: build.write_web_metadata(world, layout.web_metadata)),
            ("web videos", lambda: build.build_web_videos(world, layout.web_metadata, layout.web_videos, workers)),
            ("class lists", lambda: build.write_class_lists(world, layout.class_lists)),
            *[(name, lambda name=name: build.build_downstream(world, name, layout.downstream(name), workers)) for name in ("ucf101", "hmdb51", "curated")],
        ]
        total = 0.0
        for name, step in steps:
            started = time.perf_counter()
            step()
            elapsed = time.perf_counter() - started
            total += elapsed
            print(f"{name:<13} {elapsed:6.1f} s", flush=True)
        videos = sum(1 for p in Path(tmp).rglob("*") if p.suffix in {".mp4", ".avi"})
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    print(f"total         {total:6.1f} s  ({videos} videos, {size / 1e6:.1f} MB; target <= 60 s)")


if __name__ == "__main__":
    main()
