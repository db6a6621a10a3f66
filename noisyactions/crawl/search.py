"""Search every query to the end, through Flickr's 4,000-result cap, and plan the per-video shards.

Flickr serves at most `result_cap` results per query (later pages repeat earlier ones), so a query
is searched per upload-date slice, halving a slice until it holds fewer results than the cap; slice
bounds are inclusive, so the upper half starts one second after the lower half ends. A video keeps
every query that found it: its multi-labels (`concepts` for class queries, `sentences` for
sentence queries), in the order the queries found it (an id list keeps the list's order), so a loss
that prefers a video's first label (CCE-Mask's `listed` order) can follow the crawl.

Search asks for no extras: every field of a video comes from flickr.photos.getInfo, which the crawl
calls for each video anyway (it is the only source of duration and place), so extras would add bytes
but save no call, and search mode, id-list mode and retries build records the same way.

Each finished search is journalled under a key of everything that decides its result (`search_key`),
so a rerun searches only what is new or changed, and the plan is built from the current queries' own
searches: a query removed from the config, or searched under other dates, cap, page size or server, is
not in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from pathlib import Path
from typing import Iterable

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


def upload_date_range(crawl: dict) -> tuple[int, int]:
    """The searched upload dates as inclusive Unix times: max_upload_date counts its whole day."""
    return parse_date(crawl["min_upload_date"]), parse_date(crawl["max_upload_date"]) + 86399


def search_parameters(crawl: dict) -> dict:
    """Every search page's parameters but the text, the page and the date slice."""
    return dict(media="videos", per_page=crawl["per_page"], sort="date-posted-asc")


def search_key(text: str, crawl: dict, endpoint: str) -> str:
    """What a search finds is decided by its text, its parameters, the date range, the result cap
    (which decides the slicing) and who answers (`endpoint_identity`); a journal entry is reused only for
    the same of all of them, so a changed config searches again instead of planning stale hits."""
    decided_by = {"text": text, **search_parameters(crawl), "upload_dates": upload_date_range(crawl), "result_cap": crawl["result_cap"], "endpoint": endpoint}
    return hashlib.sha256(json.dumps(decided_by, sort_keys=True).encode()).hexdigest()


def search_query(client: FlickrClient, text: str, crawl: dict) -> dict[str, str]:
    """Every video the query finds: photo id -> secret."""
    found: dict[str, str] = {}
    slices = [upload_date_range(crawl)]
    per_page, cap = crawl["per_page"], crawl["result_cap"]
    while slices:
        low, high = slices.pop()
        query = dict(text=text, **search_parameters(crawl), min_upload_date=low, max_upload_date=high)
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


def run_searches(queries: list[Query], client: FlickrClient, crawl: dict, endpoint: str, journal: Journal) -> dict:
    """Search each query whose search (by `search_key`) is not yet in the journal; returns this run's stats."""
    done = {entry.get("key") for entry in journal.entries()}
    started = time.monotonic()
    todo = {search_key(q.query, crawl, endpoint): q.query for q in queries}
    todo = {key: text for key, text in todo.items() if key not in done}
    for key, text in tqdm(todo.items(), desc="search queries", unit="query"):
        before = Counter(client.calls)
        hits = search_query(client, text, crawl)
        journal.append({"key": key, "query": text, "hits": hits, "calls": dict(client.calls - before)})
    return {"queries": len(queries), "searched_now": len(todo), "wall_seconds": round(time.monotonic() - started, 3)}


def current_searches(queries: list[Query], crawl: dict, endpoint: str, entries: Iterable[dict]) -> dict[str, dict]:
    """The journalled search of each of `queries` under the current settings (by `search_key`), by
    query text; the journal's other entries (queries or settings no longer configured) are left out."""
    by_key = {entry["key"]: entry for entry in entries if "key" in entry}
    searches = {}
    for query in queries:
        key = search_key(query.query, crawl, endpoint)
        if key not in by_key:
            raise RuntimeError(f"the search journal has no search of {query.query!r} with the current settings; run_searches first")
        searches[query.query] = by_key[key]
    return searches


def plan_from_searches(queries: list[Query], searches: dict[str, dict]) -> tuple[pa.Table, dict]:
    """One row per distinct video that `queries` found (their `current_searches`), with every one of them
    that found it; and those searches' call counts."""
    secrets: dict[str, str] = {}
    labels: dict[str, tuple[dict, dict]] = {}  # insertion-ordered sets: the order the queries found a video
    for query in queries:
        for photo_id, secret in searches[query.query]["hits"].items():
            secrets[photo_id] = secret
            concepts, sentences = labels.setdefault(photo_id, ({}, {}))
            (concepts if query.kind == "class" else sentences)[query.query] = None
    calls: Counter[str] = Counter()
    for entry in searches.values():  # once per search, though a text can be both a class and a sentence query
        calls.update(entry["calls"])
    ids = sorted(secrets, key=int)
    table = pa.table(
        {
            "photo_id": ids,
            "secret": [secrets[i] for i in ids],
            "concepts": [list(labels[i][0]) for i in ids],
            "sentences": [list(labels[i][1]) for i in ids],
        },
        schema=PLAN_SCHEMA,
    )
    return table, dict(calls)


def plan_from_id_list(ids_file: Path, class_index: Path | None) -> pa.Table:
    """The authors' published lists (noisyactions.label_lists format): their ids, their labels."""
    ids, labels = read_label_list(ids_file, class_index)
    merged: dict[str, dict[str, None]] = {}  # a video's labels in the list's order, repeats dropped
    for photo_id, row in zip(ids, labels):
        merged.setdefault(photo_id, {}).update(dict.fromkeys(row))
    ordered = sorted(merged, key=int)
    return pa.table(
        {"photo_id": ordered, "secret": [""] * len(ordered), "concepts": [list(merged[i]) for i in ordered], "sentences": [[] for _ in ordered]},
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
