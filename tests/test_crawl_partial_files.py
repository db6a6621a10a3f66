"""Jobs killed mid-file, again and again: a resume removes what the kills left of its own files (and
only those), so partial files never pile up and the shard still ends complete."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pyarrow.parquet as pq
import pytest

from noisyactions.crawl.client import FlickrClient
from noisyactions.crawl.credentials import Credentials
from noisyactions.crawl.download import PARTIAL_FOLDER, Downloader, download_shard
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
    table, stats, journal = outputs / "shard-00000.parquet", outputs / "shard-00000_stats.json", tmp_path / "journal.jsonl"
    downloader = Downloader(download, RetryPolicy(2, 0.001, 0.01), 5)
    own = downloader.partial_folder(table)
    # Being written now: another shard's download, and the same shard's (of the same video) in another
    # working directory that shares the video root.
    others = [
        downloader.partial_folder(outputs / "shard-00001.parquet") / ".99999.mp4.abcd1234.tmp",
        downloader.partial_folder(tmp_path / "other-workdir" / "downloads" / table.name) / f".{ids[0]}.mp4.abcd1234.tmp",
    ]
    for path in others:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"live")
    left: list[str] = []
    for kill in range(3):
        job = multiprocessing.Process(target=_download_until_stuck, args=(download, metadata, table, stats, journal))
        job.start()
        deadline = time.monotonic() + 30
        while set(temp_files(own)) <= set(left) and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(job.pid, signal.SIGKILL)
        job.join()
        assert not set(temp_files(own)) <= set(left), f"kill {kill + 1}: the download never started"
        left = temp_files(own)
        assert len(left) == 1 and left[0].startswith(f".{ids[0]}.mp4."), f"after kill {kill + 1}: {left} (each resume removes what the last kill left)"
    result = download_shard(metadata, table, stats, Journal(journal), downloader)
    assert result["ok"] == 3
    assert {p.name for p in videos.iterdir()} == {f"{i}.mp4" for i in ids} | {PARTIAL_FOLDER}
    assert not own.exists(), "a finished job removes its partial folder"
    assert all(path.read_bytes() == b"live" for path in others)


def leave_what_a_kill_leaves(outputs) -> None:
    """A temporary file beside each output, as a job killed while writing it leaves."""
    for path in outputs:
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / f".{path.name}.dead1234.tmp").write_bytes(b"partial")


def test_every_crawl_job_removes_what_a_killed_run_left_of_its_outputs(tiny_config, tiny_world, tmp_path):
    """Every job kind, through the functions its Snakemake script calls: each is its outputs' only writer."""
    from conftest import free_port
    from noisyactions.crawl.run import (
        build_query_table, crawl_one_shard, download_one_shard, merge_crawl, merge_downloads, plan_crawl, retry_failures,
    )

    rows = pq.read_table(tiny_world.web_metadata).slice(0, 2).to_pylist()
    (tmp_path / "ids.txt").write_text("".join(f"{r['photo_id']}\n" for r in rows))
    (tmp_path / "classes.txt").write_text("PlayingGuitar\n")
    world = {**tiny_config["world"], "root": str(tiny_world.root)}
    flickr = {**tiny_config["flickr"], "server": {**tiny_config["flickr"]["server"], "port": free_port()}}
    download = {**tiny_config["crawl"]["download"], "root": str(tmp_path / "videos"), "allowed_hosts": ["127.0.0.1"]}
    crawl = {**tiny_config["crawl"], "mode": "ids", "ids_file": str(tmp_path / "ids.txt"), "max_calls_per_hour": None,
             "queries": [{"path": str(tmp_path / "classes.txt")}], "download": download}
    out = tmp_path / "results"
    queries, search, plan = out / "queries.tsv", out / "search_stats.json", out / "plan" / "shard-00000.parquet"
    metadata, metadata_stats = out / "metadata" / "shard-00000.parquet", out / "metadata" / "shard-00000_stats.json"
    videos, videos_stats = out / "download" / "shard-00000.parquet", out / "download" / "shard-00000_stats.json"
    crawl_reports, download_reports = [out / "metadata.parquet", out / "report.json", out / "report.md"], [out / "download" / n for n in ("videos.parquet", "report.json", "report.md")]
    leave_what_a_kill_leaves([queries, search, metadata, metadata_stats, videos, videos_stats, *crawl_reports, *download_reports])
    build_query_table(crawl, queries)
    plan_crawl(flickr, world, crawl, None, plan.parent, search, out / "search.jsonl")
    crawl_one_shard(flickr, world, crawl, plan, metadata, metadata_stats, out / "journal.jsonl")
    merge_crawl([metadata], [metadata_stats], search, "test", *crawl_reports)
    download_one_shard(flickr, world, crawl, metadata, videos, videos_stats, out / "download-journal.jsonl")
    merge_downloads([videos], [videos_stats], "test", *download_reports)
    assert not list(out.rglob(".*.tmp"))
    assert pq.read_table(crawl_reports[0]).num_rows == 2 and pq.read_table(download_reports[0]).num_rows == 2
    leave_what_a_kill_leaves([metadata, metadata_stats, videos, videos_stats])  # retry_failures rewrites these
    retry_failures(flickr, world, crawl, [metadata], [videos])
    assert not list(out.rglob(".*.tmp"))
