"""Search every query to the end, through Flickr's 4,000-result cap, and plan the per-video shards.

Flickr serves at most `result_cap` results per query (later pages repeat earlier ones), so a query
is searched per upload-date slice, halving a slice until it holds fewer results than the cap; slice
bounds are inclusive, so the upper half starts one second after the lower half ends. A video keeps
every query that found it: its multi-labels (`concepts` for class queries, `sentences` for
sentence queries).

Search asks for no extras: every field of a video comes from flickr.photos.getInfo, which the crawl
calls for each video anyway (it is the only source of duration and place), so extras would add bytes
but save no call, and search mode, id-list mode and retries build records the same way.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from noisyactions.atomic import atomic_path
from noisyactions.crawl.client import FlickrClient
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.queries import Query
from noisyactions.flickr.catalog import parse_date
from noisyactions.label_lists import read_label_list

log = logging.getLogger(__name__)

PLAN_SCHEMA = pa.schema(
    [("photo_id", pa.string()), ("secret", pa.string()), ("concepts", pa.list_(pa.string())), ("sentences", pa.list_(pa.string()))]
)


def search_query(client: FlickrClient, text: str, crawl: dict) -> dict[str, str]:
    """Every video the query finds: photo id -> secret."""
    found: dict[str, str] = {}
    slices = [(parse_date(crawl["min_upload_date"]), parse_date(crawl["max_upload_date"]) + 86399)]
    per_page, cap = crawl["per_page"], crawl["result_cap"]
    while slices:
        low, high = slices.pop()
        query = dict(text=text, media="videos", per_page=per_page, sort="date-posted-asc", min_upload_date=low, max_upload_date=high)
        first = client.call("flickr.photos.search", page=1, **query)["photos"]
        total = int(first["total"])
        if total >= cap and high > low:
            middle = (low + high) // 2
            slices += [(middle + 1, high), (low, middle)]
            continue
        if total >= cap:
            log.warning("%r: %d results uploaded in one second; only %d reachable", text, total, cap)
        pages = min(int(first["pages"]), -(-min(total, cap) // per_page))
        photos = list(first["photo"])
        for page in range(2, pages + 1):
            photos += client.call("flickr.photos.search", page=page, **query)["photos"]["photo"]
        for photo in photos:
            found[str(photo["id"])] = photo["secret"]
    return found


def run_searches(queries: list[Query], client: FlickrClient, crawl: dict, journal: Journal) -> dict:
    """Search each query not yet in the journal; returns this run's stats."""
    done = {entry["query"] for entry in journal.entries()}
    started = time.monotonic()
    todo = [q for q in queries if q.query not in done]
    for query in tqdm(todo, desc="search queries", unit="query"):
        before = Counter(client.calls)
        hits = search_query(client, query.query, crawl)
        journal.append({"query": query.query, "kind": query.kind, "hits": hits, "calls": dict(client.calls - before)})
    return {"queries": len(queries), "searched_now": len(todo), "wall_seconds": round(time.monotonic() - started, 3)}


def plan_from_journal(journal: Journal) -> tuple[pa.Table, dict]:
    """One row per distinct video with every query that found it; and the search stage's call counts."""
    secrets: dict[str, str] = {}
    labels: dict[str, tuple[set, set]] = {}
    calls: Counter[str] = Counter()
    for entry in journal.entries():
        calls.update(entry["calls"])
        for photo_id, secret in entry["hits"].items():
            secrets[photo_id] = secret
            concepts, sentences = labels.setdefault(photo_id, (set(), set()))
            (concepts if entry["kind"] == "class" else sentences).add(entry["query"])
    ids = sorted(secrets, key=int)
    table = pa.table(
        {
            "photo_id": ids,
            "secret": [secrets[i] for i in ids],
            "concepts": [sorted(labels[i][0]) for i in ids],
            "sentences": [sorted(labels[i][1]) for i in ids],
        },
        schema=PLAN_SCHEMA,
    )
    return table, dict(calls)


def plan_from_id_list(ids_file: Path, class_index: Path | None) -> pa.Table:
    """The authors' published lists (noisyactions.label_lists format): their ids, their labels."""
    ids, labels = read_label_list(ids_file, class_index)
    merged: dict[str, set[str]] = {}
    for photo_id, row in zip(ids, labels):
        merged.setdefault(photo_id, set()).update(row)
    ordered = sorted(merged, key=int)
    return pa.table(
        {"photo_id": ordered, "secret": [""] * len(ordered), "concepts": [sorted(merged[i]) for i in ordered], "sentences": [[] for _ in ordered]},
        schema=PLAN_SCHEMA,
    )


def write_shard_plan(plan: pa.Table, out_dir: Path, shard_size: int) -> list[Path]:
    """Split the plan into shard files of `shard_size` videos: one crawl job each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for shard, start in enumerate(range(0, max(plan.num_rows, 1), shard_size)):
        path = out_dir / f"shard-{shard:05d}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(plan.slice(start, shard_size), tmp)
        paths.append(path)
    return paths
