"""The metadata journal across a replan: a shard job killed, the queries changed, the shard crawled
again. Videos still planned keep their journalled fetch but take the new plan's labels; videos no
longer planned are left out, their calls and time too."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from noisyactions.crawl.client import FlickrClient
from noisyactions.crawl.credentials import Credentials
from noisyactions.crawl.fetch import fetch_video
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.retry import RetryPolicy
from noisyactions.crawl.search import PLAN_SCHEMA
from noisyactions.crawl.shards import crawl_shard
from noisyactions.flickr.server import EmbeddedFlickrServer

CRAWL = {"timeout_seconds": 5}


def plan_row(video: dict, concepts: list[str], sentences: list[str]) -> dict:
    return {"photo_id": video["photo_id"], "secret": video["secret"], "concepts": concepts, "sentences": sentences}


def test_a_replanned_shard_takes_the_new_plans_labels_and_counts_only_its_videos(tiny_config, tiny_world, tmp_path):
    dropped, kept, added = pq.read_table(tiny_world.web_metadata).slice(0, 3).to_pylist()
    journal = Journal(tmp_path / "journal.jsonl")
    with EmbeddedFlickrServer(tiny_world, tiny_config["flickr"]["server"]) as server:
        client = FlickrClient(server.rest_url, Credentials("embedded-key", "embedded-secret"), CRAWL, None, RetryPolicy(3, 0.001, 0.01))
        # The killed job, under the old plan: two videos fetched and journalled with the old labels.
        for video, seconds in ((dropped, 1000.0), (kept, 1.0)):
            record = fetch_video(client, video["photo_id"], video["secret"], ["old"], ["an old sentence"], "getSizes", server.base_url)
            journal.append({"record": record, "calls": {"flickr.photos.getInfo": 1, "flickr.photos.getSizes": 1}, "seconds": seconds})
        # The new plan drops one, keeps one under other labels (and another order), adds one.
        plan = [plan_row(kept, ["new b", "new a"], []), plan_row(added, ["new a"], ["a new sentence"])]
        pq.write_table(pa.Table.from_pylist(plan, schema=PLAN_SCHEMA), tmp_path / "plan.parquet")
        before = Counter(client.calls)
        stats = crawl_shard(tmp_path / "plan.parquet", tmp_path / "shard.parquet", tmp_path / "stats.json", journal, client, "getSizes", server.base_url)
        fetched_now = client.calls - before
    records = pq.read_table(tmp_path / "shard.parquet").to_pylist()
    assert [(r["photo_id"], r["concepts"], r["sentences"]) for r in records] == [(p["photo_id"], p["concepts"], p["sentences"]) for p in plan]
    assert stats["calls"] == dict(Counter({"flickr.photos.getInfo": 1, "flickr.photos.getSizes": 1}) + fetched_now)
    assert stats["wall_seconds"] < 1000, "the dropped video's time is not this shard's"
    assert json.loads((tmp_path / "stats.json").read_text()) == stats
