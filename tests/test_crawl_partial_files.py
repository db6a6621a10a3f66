"""Download jobs killed mid-file, again and again: a resume removes what the kills left of its own
shard's files (and only those), so partial files never pile up and the shard still ends complete."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pyarrow.parquet as pq
import pytest

from noisyactions.crawl.client import FlickrClient
from noisyactions.crawl.credentials import Credentials
from noisyactions.crawl.download import Downloader, download_shard
from noisyactions.crawl.fetch import fetch_video
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.records import to_table
from noisyactions.crawl.retry import RetryPolicy
from noisyactions.flickr.server import EmbeddedFlickrServer

CRAWL = {"timeout_seconds": 5}


def _download_until_stuck(download: dict, metadata, table, stats, journal) -> None:
    """A download job whose first file stalls half-way (a connection that hangs), to be killed there."""

    def stall(self, url, tmp):
        tmp.write_bytes(b"\0" * 1000)
        time.sleep(600)

    Downloader._fetch = stall
    download_shard(metadata, table, stats, Journal(journal), Downloader(download, RetryPolicy(0, 0, 0), 5))


def temp_files(folder) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.tmp"))


def partial_files(folder, photo_id) -> set[str]:
    return {name for name in temp_files(folder) if name.startswith(f".{photo_id}.mp4.")}


@pytest.fixture
def shard(tiny_config, tiny_world, tmp_path):
    """A metadata shard of three videos, as crawl_shard writes it, and the download config."""
    rows = pq.read_table(tiny_world.web_metadata).slice(0, 3).to_pylist()
    with EmbeddedFlickrServer(tiny_world, tiny_config["flickr"]["server"]) as server:
        client = FlickrClient(server.rest_url, Credentials("embedded-key", "embedded-secret"), CRAWL, None, RetryPolicy(3, 0.001, 0.01))
        records = [fetch_video(client, r["photo_id"], r["secret"], [], [], "getSizes", server.base_url) for r in rows]
        metadata = tmp_path / "metadata" / "shard-00000.parquet"
        metadata.parent.mkdir()
        pq.write_table(to_table(records), metadata)
        download = {"sizes": ["Site MP4"], "max_bytes": 10**7, "allowed_hosts": ["127.0.0.1"], "root": str(tmp_path / "videos")}
        yield metadata, download, [r["photo_id"] for r in rows]


def test_repeated_kills_mid_download_leave_no_partial_files(shard, tmp_path):
    metadata, download, ids = shard
    videos, outputs = tmp_path / "videos", tmp_path / "downloads"
    videos.mkdir()
    outputs.mkdir()
    table, stats, journal = outputs / "shard-00000.parquet", outputs / "shard-00000_stats.json", tmp_path / "journal.jsonl"
    others = [videos / ".99999.mp4.abcd1234.tmp", outputs / ".shard-00001.parquet.abcd1234.tmp"]  # another shard's, being written now
    for path in others:
        path.write_bytes(b"live")
    left: set[str] = set()
    for kill in range(3):
        job = multiprocessing.Process(target=_download_until_stuck, args=(download, metadata, table, stats, journal))
        job.start()
        deadline = time.monotonic() + 30
        while not partial_files(videos, ids[0]) - left and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(job.pid, signal.SIGKILL)
        job.join()
        assert partial_files(videos, ids[0]) - left, f"kill {kill + 1}: the download never started"
        left = partial_files(videos, ids[0])
        assert len(left) == 1, f"after kill {kill + 1}: {sorted(left)} (each resume removes what the last kill left)"
    # A kill while the shard's own table and stats were being written, too.
    for name in (table.name, stats.name):
        (outputs / f".{name}.dead1234.tmp").write_bytes(b"partial")
    result = download_shard(metadata, table, stats, Journal(journal), Downloader(download, RetryPolicy(2, 0.001, 0.01), 5))
    assert result["ok"] == 3
    assert {p.name for p in videos.iterdir()} == {f"{i}.mp4" for i in ids} | {others[0].name}
    assert temp_files(outputs) == [others[1].name]
    assert all(path.read_bytes() == b"live" for path in others)


def test_every_crawl_job_removes_what_a_killed_run_left_of_its_outputs(tiny_config, tiny_world, tmp_path):
    """Query table, plan, metadata shard and merge: each job is its outputs' only writer."""
    from conftest import free_port
    from noisyactions.crawl.run import build_query_table, crawl_one_shard, merge_crawl, plan_crawl

    rows = pq.read_table(tiny_world.web_metadata).slice(0, 2).to_pylist()
    (tmp_path / "ids.txt").write_text("".join(f"{r['photo_id']}\n" for r in rows))
    (tmp_path / "classes.txt").write_text("PlayingGuitar\n")
    world = {**tiny_config["world"], "root": str(tiny_world.root)}
    flickr = {**tiny_config["flickr"], "server": {**tiny_config["flickr"]["server"], "port": free_port()}}
    crawl = {**tiny_config["crawl"], "mode": "ids", "ids_file": str(tmp_path / "ids.txt"), "max_calls_per_hour": None,
             "queries": [{"path": str(tmp_path / "classes.txt")}]}
    out = tmp_path / "results"
    outputs = {
        "queries": out / "queries.tsv", "search": out / "search_stats.json", "table": out / "metadata" / "shard-00000.parquet",
        "stats": out / "metadata" / "shard-00000_stats.json", "merged": out / "metadata.parquet", "json": out / "report.json", "md": out / "report.md",
    }
    for path in outputs.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / f".{path.name}.dead1234.tmp").write_bytes(b"partial")
    build_query_table(crawl, outputs["queries"])
    plan_crawl(flickr, world, crawl, None, out / "plan", outputs["search"], out / "search.jsonl")
    crawl_one_shard(flickr, world, crawl, out / "plan" / "shard-00000.parquet", outputs["table"], outputs["stats"], out / "journal.jsonl")
    merge_crawl([outputs["table"]], [outputs["stats"]], outputs["search"], "test", outputs["merged"], outputs["json"], outputs["md"])
    assert not list(out.rglob(".*.tmp"))
    assert pq.read_table(outputs["merged"]).num_rows == 2
