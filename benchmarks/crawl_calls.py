"""API calls per collected video, and crawl wall time with the rate limit off, on the embedded world.

Runs the crawl's own job functions (query table, search plan, every shard, downloads) one after
another against one embedded server, once per way of getting video URLs: `getSizes` (the default)
and `derived` (play URLs built from id, owner and secret). Targets (issue 3): <= 2.2 calls per
collected video; stretch 1.5.

    python benchmarks/crawl_calls.py [--config config/config.yaml]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.config import load_config  # noqa: E402
from noisyactions.crawl import run  # noqa: E402
from noisyactions.crawl.credentials import EMBEDDED_CREDENTIALS  # noqa: E402
from noisyactions.flickr.server import EmbeddedFlickrServer  # noqa: E402
from noisyactions.world.layout import WorldLayout  # noqa: E402


def crawl_once(config: dict, rest_url: str, out: Path, video_urls: str) -> dict:
    flickr = {**config["flickr"], "rest_url": rest_url}
    crawl = {**config["crawl"], "video_urls": video_urls, "max_calls_per_hour": None,
             "download": {**config["crawl"]["download"], "root": str(out / "videos")}}
    timings = {}
    started = time.perf_counter()
    run.build_query_table(crawl, out / "queries.tsv")
    run.plan_crawl(flickr, config["world"], crawl, out / "queries.tsv", out / "plan", out / "search_stats.json", out / "search.jsonl")
    timings["search"] = time.perf_counter() - started
    shards = sorted((out / "plan").glob("shard-*.parquet"))
    started = time.perf_counter()
    for plan in shards:
        run.crawl_one_shard(flickr, config["world"], crawl, plan, out / "metadata" / plan.name, out / "metadata" / f"{plan.stem}_stats.json", out / f"{plan.stem}.jsonl")
    timings["metadata"] = time.perf_counter() - started
    run.merge_crawl(sorted((out / "metadata").glob("*.parquet")), sorted((out / "metadata").glob("*_stats.json")), out / "search_stats.json",
                    config["label"], out / "metadata.parquet", out / "report.json", out / "report.md")
    started = time.perf_counter()
    for table in sorted((out / "metadata").glob("*.parquet")):
        run.download_one_shard(flickr, config["world"], crawl, table, out / "downloads" / table.name, out / "downloads" / f"{table.stem}_stats.json", out / f"dl-{table.stem}.jsonl")
    timings["download"] = time.perf_counter() - started
    downloaded = sum(json.loads(p.read_text())["ok"] for p in (out / "downloads").glob("*_stats.json"))
    return {**json.loads((out / "report.json").read_text()), "timings": timings, "downloaded": downloaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    args = parser.parse_args()
    os.chdir(REPO)  # config paths (world root, query files) are relative to the repository
    config = load_config(args.config)
    layout = WorldLayout(config["world"]["root"])
    if not layout.web_metadata.exists():
        sys.exit(f"{layout.web_metadata} is missing: run `snakemake --cores 2 world` first")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; rate limit off")
    # One server for every job, reached as a configured REST URL, with the embedded key.
    os.environ[config["flickr"]["key_env"]], os.environ[config["flickr"]["secret_env"]] = EMBEDDED_CREDENTIALS
    server_cfg = {**config["flickr"]["server"], "port": 0}
    with EmbeddedFlickrServer(layout, server_cfg) as server:
        for video_urls in ("getSizes", "derived"):
            with tempfile.TemporaryDirectory() as tmp:
                report = crawl_once(config, server.rest_url, Path(tmp), video_urls)
            t = report["timings"]
            print(f"video_urls={video_urls:<8}: {report['videos_collected']} videos, {report['api_calls']} calls, "
                  f"{report['calls_per_collected_video']:.3f} calls/video  {report['api_calls_by_method']}")
            print(f"{'':21}wall: search {t['search']:.1f} s, metadata {t['metadata']:.1f} s, "
                  f"download {t['download']:.1f} s ({report['downloaded']} videos downloaded and decoded)")
    print("target: <= 2.2 calls/video (stretch 1.5)")


if __name__ == "__main__":
    main()
