"""The crawl's Snakemake jobs, one function each; the scripts in scripts/ only pass paths and config.

Each job is its outputs' only writer, so each starts by removing the temporary files a killed run of
it left beside them (`remove_orphaned_temp_files`, one call per job); the functions it calls do not.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyarrow as pa

from noisyactions.atomic import atomic_write_text, remove_orphaned_temp_files
from noisyactions.crawl import search
from noisyactions.crawl.client import FlickrClient
from noisyactions.crawl.credentials import read_credentials
from noisyactions.crawl.download import DOWNLOAD_SCHEMA, Downloader, download_shard, retry_failed_downloads
from noisyactions.crawl.endpoint import endpoint_identity, flickr_endpoint
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.queries import read_queries, read_query_table, write_query_table
from noisyactions.crawl.ratelimit import RateLimiter
from noisyactions.crawl.records import RECORD_SCHEMA
from noisyactions.crawl.report import combine_stats, crawl_report, merge_shards, write_report
from noisyactions.crawl.retry import RetryPolicy
from noisyactions.crawl.shards import crawl_shard, retry_failed

log = logging.getLogger(__name__)


@contextmanager
def flickr_client(flickr: dict, world: dict, crawl: dict) -> Iterator[tuple[FlickrClient, str]]:
    """A rate-limited, retrying client on the configured endpoint (the embedded server if none)."""
    credentials = read_credentials(flickr)
    limiter = None
    if crawl["max_calls_per_hour"] is not None:
        limiter = RateLimiter(Path(crawl["rate_limit_state"]), crawl["max_calls_per_hour"], crawl["rate_window_seconds"])
    with flickr_endpoint(flickr, world, credentials) as rest_url:
        yield FlickrClient(rest_url, credentials, crawl, limiter, RetryPolicy.from_config(crawl)), rest_url


def build_query_table(crawl: dict, out_path: Path) -> None:
    remove_orphaned_temp_files([out_path])
    queries = read_queries(crawl["queries"])
    write_query_table(queries, out_path)
    log.info("%d queries (%d class, %d sentence) -> %s", len(queries), sum(q.kind == "class" for q in queries), sum(q.kind == "sentence" for q in queries), out_path)


def plan_searches(flickr: dict, world: dict, crawl: dict, queries_path: Path, journal: Journal) -> tuple[pa.Table, dict]:
    """Search what the journal lacks and plan from the current queries' searches; then cut the journal
    down to those, so searches of queries or settings no longer configured do not pile up."""
    queries, endpoint = read_query_table(queries_path), endpoint_identity(flickr, world)
    with flickr_client(flickr, world, crawl) as (client, _):
        run = search.run_searches(queries, client, crawl, endpoint, journal)
    entries = list(journal.entries())
    searches = search.current_searches(queries, crawl, endpoint, entries)
    plan, calls = search.plan_from_searches(queries, searches)
    if len(searches) < len(entries):
        journal.rewrite(list(searches.values()))
    return plan, {**run, "calls": calls, "retries": dict(client.retry.retries)}


def plan_crawl(flickr: dict, world: dict, crawl: dict, queries_path: Path | None, plan_dir: Path, stats_path: Path, journal_path: Path) -> None:
    """Search every query (or read the id list) and split the videos into shard plans."""
    remove_orphaned_temp_files([stats_path])
    if crawl["mode"] == "ids":
        plan = search.plan_from_id_list(Path(crawl["ids_file"]), Path(crawl["ids_class_index"]) if crawl["ids_class_index"] else None)
        stats = {"queries": 0, "calls": {}, "wall_seconds": 0.0}
    else:
        plan, stats = plan_searches(flickr, world, crawl, queries_path, Journal(journal_path))
    shards = search.write_shard_plan(plan, plan_dir, crawl["shard_size"])
    stats.update(videos=plan.num_rows, shards=len(shards))
    atomic_write_text(stats_path, json.dumps(stats, indent=2) + "\n")
    log.info("%d videos planned in %d shards", plan.num_rows, len(shards))


def crawl_one_shard(flickr: dict, world: dict, crawl: dict, plan_path: Path, table_path: Path, stats_path: Path, journal_path: Path) -> None:
    remove_orphaned_temp_files([table_path, stats_path])
    with flickr_client(flickr, world, crawl) as (client, rest_url):
        stats = crawl_shard(plan_path, table_path, stats_path, Journal(journal_path), client, crawl["video_urls"], rest_url)
    log.info("%s: %d of %d videos ok; calls %s", table_path.name, stats["ok"], stats["videos"], stats["calls"])


def merge_crawl(shard_tables: list[Path], shard_stats: list[Path], search_stats: Path, label: str, table_path: Path, report_json: Path, report_md: Path) -> None:
    remove_orphaned_temp_files([table_path, report_json, report_md])
    merge_shards(shard_tables, table_path, RECORD_SCHEMA)
    report = crawl_report(json.loads(search_stats.read_text()), [json.loads(p.read_text()) for p in shard_stats], label)
    write_report(report, report_json, report_md, "Crawl report")


def downloader_for(crawl: dict) -> Downloader:
    return Downloader(crawl["download"], RetryPolicy.from_config(crawl), crawl["timeout_seconds"])


def download_one_shard(flickr: dict, world: dict, crawl: dict, metadata_path: Path, table_path: Path, stats_path: Path, journal_path: Path) -> None:
    remove_orphaned_temp_files([table_path, stats_path])
    # The embedded server also serves the files, so it runs for downloads too.
    with flickr_endpoint(flickr, world, read_credentials(flickr)):
        download_shard(metadata_path, table_path, stats_path, Journal(journal_path), downloader_for(crawl))


def merge_downloads(shard_tables: list[Path], shard_stats: list[Path], label: str, table_path: Path, report_json: Path, report_md: Path) -> None:
    remove_orphaned_temp_files([table_path, report_json, report_md])
    merge_shards(shard_tables, table_path, DOWNLOAD_SCHEMA)
    report = {"label": label, **combine_stats([json.loads(p.read_text()) for p in shard_stats])}
    write_report(report, report_json, report_md, "Download report")


def retry_failures(flickr: dict, world: dict, crawl: dict, metadata_shards: list[Path], download_shards: list[Path]) -> dict:
    """Fetch again only the failed records of finished shards, then re-download what they unblock."""
    remove_orphaned_temp_files(path for table in metadata_shards + download_shards for path in (table, stats_path_of(table)))
    retried = {"metadata": 0, "downloads": 0}
    with flickr_client(flickr, world, crawl) as (client, rest_url):
        for table in metadata_shards:
            retried["metadata"] += retry_failed(table, stats_path_of(table), client, crawl["video_urls"], rest_url)
        downloader = downloader_for(crawl)
        for table in download_shards:
            metadata = next(m for m in metadata_shards if m.name == table.name)
            retried["downloads"] += retry_failed_downloads(metadata, table, stats_path_of(table), downloader)
    log.info("retried %s", retried)
    return retried


def stats_path_of(table_path: Path) -> Path:
    """shard-00000.parquet -> shard-00000_stats.json: the file whose presence marks a shard done."""
    return table_path.with_name(f"{table_path.stem}_stats.json")
