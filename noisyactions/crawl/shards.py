"""Crawl one shard of the plan: fetch each video's record, resumable, then write the shard.

Order of writes is the contract with resume: each finished record is appended to the shard's
journal; at the end the table is written atomically, then the stats file, which marks the shard
done; only then is the journal removed. A rerun skips done shards and, within an interrupted
shard, every journalled record of a video still in the plan, under the plan's current labels (a
replan may have changed the queries). What a kill left of the table and stats writes is removed by
the job (noisyactions.crawl.run).
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from tqdm import tqdm

from noisyactions.atomic import atomic_path, atomic_write_text
from noisyactions.crawl.client import FlickrClient
from noisyactions.crawl.fetch import fetch_video, play_url_base
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.records import OK, RETRYABLE, status_summary, to_table

log = logging.getLogger(__name__)


def shard_stats(records: list[dict], calls: Counter, wall_seconds: float, retries: Counter) -> dict:
    return {
        **status_summary(records),
        "calls": dict(sorted(calls.items())),
        "retries": dict(sorted(retries.items())),
        "wall_seconds": round(wall_seconds, 3),
    }


def write_shard(records: list[dict], stats: dict, table_path: Path, stats_path: Path) -> None:
    with atomic_path(table_path) as tmp:
        pq.write_table(to_table(records), tmp)
    atomic_write_text(stats_path, json.dumps(stats, indent=2) + "\n")  # last: marks the shard done


def with_plan_labels(record: dict, row: dict) -> dict:
    """The record with the labels of the plan row: a journalled record carries those of the plan it was
    fetched under, and a replan (changed queries) can give the same video other labels, or another order."""
    return {**record, "concepts": row["concepts"], "sentences": row["sentences"]}


def journalled_entries(journal: Journal, plan: list[dict]) -> dict[str, dict]:
    """The journal's entries of the videos in this plan, by photo id, relabelled by the plan. Entries of
    videos a replan dropped are left out: their records and their calls are no part of this shard."""
    rows = {row["photo_id"]: row for row in plan}
    entries = {}
    for entry in journal.entries():
        row = rows.get(entry["record"]["photo_id"])
        if row is not None:
            entries[row["photo_id"]] = {**entry, "record": with_plan_labels(entry["record"], row)}
    return entries


def crawl_shard(plan_path: Path, table_path: Path, stats_path: Path, journal: Journal, client: FlickrClient, video_urls: str, rest_url: str) -> dict:
    if stats_path.exists() and table_path.exists():
        log.info("%s is done; skipping", table_path)
        return json.loads(stats_path.read_text())
    plan = pq.read_table(plan_path).to_pylist()
    entries = journalled_entries(journal, plan)
    calls: Counter[str] = Counter()
    wall = 0.0
    for entry in entries.values():
        calls.update(entry["calls"])
        wall += entry["seconds"]
    base = play_url_base(rest_url)
    todo = [row for row in plan if row["photo_id"] not in entries]
    progress = tqdm(todo, desc=f"crawl {plan_path.stem}", unit="video")
    for row in progress:
        started, before = time.monotonic(), Counter(client.calls)
        record = fetch_video(client, row["photo_id"], row["secret"], row["concepts"], row["sentences"], video_urls, base)
        entry = {"record": record, "calls": dict(client.calls - before), "seconds": time.monotonic() - started}
        journal.append(entry)
        entries[row["photo_id"]] = entry
        calls.update(entry["calls"])
        wall += entry["seconds"]
        progress.set_postfix(calls_per_hour=round(sum(calls.values()) / max(wall, 1e-9) * 3600), failed=sum(e["record"]["status"] != OK for e in entries.values()))
    records = [entries[row["photo_id"]]["record"] for row in plan]
    stats = shard_stats(records, calls, wall, client.retry.retries)
    write_shard(records, stats, table_path, stats_path)
    journal.remove()
    return stats


def retry_failed(table_path: Path, stats_path: Path, client: FlickrClient, video_urls: str, rest_url: str) -> int:
    """Fetch again only the records whose status is 'failed'; rewrite the shard. Returns how many."""
    records = pq.read_table(table_path).to_pylist()
    failed = [i for i, r in enumerate(records) if r["status"] == RETRYABLE]
    if not failed:
        return 0
    stats = json.loads(stats_path.read_text())
    base = play_url_base(rest_url)
    started, before = time.monotonic(), Counter(client.calls)
    for i in tqdm(failed, desc=f"retry {table_path.stem}", unit="video"):
        r = records[i]
        records[i] = fetch_video(client, r["photo_id"], r["secret"] or "", r["concepts"], r["sentences"], video_urls, base)
    calls = Counter(stats["calls"]) + (client.calls - before)
    updated = shard_stats(records, calls, stats["wall_seconds"] + time.monotonic() - started, Counter(stats["retries"]) + client.retry.retries)
    write_shard(records, updated, table_path, stats_path)
    return len(failed)
