"""The search journal across config changes: a rerun plans from the current queries and settings
only, searching again whatever they change, and reusing only searches they leave as they were."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest

from conftest import free_port
from noisyactions.crawl.queries import Query, write_query_table
from noisyactions.crawl.run import plan_crawl

FIRST = ("playing guitar", "juggling balls", "riding bike")
SECOND = ("swimming breaststroke", "throwing discus")


@pytest.fixture
def planner(tiny_config, tiny_world, tmp_path):
    """plan(queries, **crawl overrides) -> (plan rows, search stats), against the tiny world; the
    journal is shared by every call unless `journal` names another one, and `server` overrides
    settings of the embedded server."""
    world = {**tiny_config["world"], "root": str(tiny_world.root)}
    base = {**tiny_config["crawl"], "max_calls_per_hour": None, "backoff_base_seconds": 0.001, "per_page": 7, "result_cap": 40}

    def plan(queries, journal="search.jsonl", server_settings=None, **crawl):
        write_query_table([Query(q, "class", ()) for q in queries], tmp_path / "queries.tsv")
        plan_dir = tmp_path / "plan"
        for old in plan_dir.glob("*.parquet"):
            old.unlink()
        # A port of its own: flickrapi keeps connections alive (one session per process), and the last
        # call's server would still answer on them, under its own settings.
        server = {**tiny_config["flickr"]["server"], "port": free_port(), **(server_settings or {})}
        flickr = {**tiny_config["flickr"], "server": server}
        plan_crawl(flickr, world, {**base, **crawl}, tmp_path / "queries.tsv", plan_dir, tmp_path / "stats.json", tmp_path / journal)
        rows = [row for shard in sorted(plan_dir.glob("*.parquet")) for row in pq.read_table(shard).to_pylist()]
        return rows, json.loads((tmp_path / "stats.json").read_text())

    return plan


def test_changed_queries_plan_only_the_current_queries(planner):
    first, _ = planner(FIRST)
    assert {c for row in first for c in row["concepts"]} == set(FIRST)
    second, stats = planner(SECOND)
    fresh, _ = planner(SECOND, journal="fresh.jsonl")
    assert second == fresh, "the plan after a change is the plan of a fresh crawl with the new queries"
    assert {c for row in second for c in row["concepts"]} <= set(SECOND)
    assert stats["searched_now"] == 2


def test_unchanged_queries_are_not_searched_again(planner):
    planner(FIRST)
    again, stats = planner(FIRST[:2] + SECOND[:1])
    assert stats["searched_now"] == 1, "only the new query is searched"
    assert again == planner(FIRST[:2] + SECOND[:1], journal="fresh.jsonl")[0]


def test_changed_dates_cap_or_page_size_search_again(planner, tiny_world):
    rows, _ = planner(FIRST)
    uploads = sorted(r["date_upload"] for r in pq.read_table(tiny_world.web_metadata, columns=["date_upload"]).to_pylist())
    middle = datetime.fromtimestamp(uploads[len(uploads) // 2], timezone.utc).strftime("%Y-%m-%d")
    earlier, stats = planner(FIRST, max_upload_date=middle)
    assert stats["searched_now"] == 3
    assert earlier == planner(FIRST, journal="fresh.jsonl", max_upload_date=middle)[0]
    assert len(earlier) < len(rows), "the earlier range finds fewer videos"
    for setting in ({"result_cap": 25}, {"per_page": 5}):
        _, stats = planner(FIRST, max_upload_date=middle, **setting)
        assert stats["searched_now"] == 3, setting


def test_a_changed_server_cap_searches_again(planner):
    """The embedded server's result cap decides what a search reaches, as the crawl's own cap does."""
    rows, _ = planner(FIRST)
    capped, stats = planner(FIRST, server_settings={"result_cap": 5})
    assert stats["searched_now"] == 3
    assert capped == planner(FIRST, journal="fresh.jsonl", server_settings={"result_cap": 5})[0]
    assert len(capped) < len(rows), "a server that caps below crawl.result_cap hides results from the slicing"
    _, stats = planner(FIRST, server_settings={"result_cap": 5, "max_page": 2})
    assert stats["searched_now"] == 3, "the last page served decides what a search reaches too"
    _, stats = planner(FIRST, server_settings={"result_cap": 5, "max_page": 2, "faults": {"seed": 1, "code_105": 0.1}})
    assert stats["searched_now"] == 0, "faults (retried) and the port (new each call) change no answer"


def test_the_journal_keeps_only_the_current_searches(planner, tmp_path):
    planner(FIRST)
    planner(SECOND)
    entries = [json.loads(line) for line in (tmp_path / "search.jsonl").read_text().splitlines()]
    assert sorted(e["query"] for e in entries) == sorted(SECOND)


def test_a_videos_labels_keep_the_order_the_queries_found_it_in(planner):
    """CCE-Mask's `listed` order follows the crawl: labels are not re-sorted alphabetically."""
    queries = FIRST + SECOND
    for order in (queries, queries[::-1]):
        rows, _ = planner(order, journal=f"{order[0]}.jsonl")
        multi = [row["concepts"] for row in rows if len(row["concepts"]) > 1]
        assert multi, "the tiny world has videos that several of these queries find"
        for concepts in multi:
            assert concepts == sorted(concepts, key=order.index), concepts
