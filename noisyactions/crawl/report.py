"""Merge shards into one table and sum their stats into a report: API calls by method, calls per
collected video, failures and retries by reason, wall time."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from noisyactions.atomic import atomic_path, atomic_write_text


def merge_shards(shard_paths: list[Path], out_path: Path, schema: pa.Schema) -> pa.Table:
    """Concatenate shard tables (each in id order, shards in id order) into one file."""
    tables = [pq.read_table(path, schema=schema) for path in sorted(shard_paths)]
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    ids = table.column("photo_id").to_pylist()
    if len(ids) != len(set(ids)):
        raise ValueError(f"{len(ids) - len(set(ids))} photo ids appear twice across the shards {sorted(shard_paths)[0]}...")
    with atomic_path(out_path) as tmp:
        pq.write_table(table, tmp)
    return table


def combine_stats(stats_list: list[dict]) -> dict:
    """Numbers add up; dicts of counts add up per key."""
    total: dict = {}
    for stats in stats_list:
        for key, value in stats.items():
            if isinstance(value, dict):
                merged = Counter(total.get(key, {}))
                merged.update(value)
                total[key] = dict(sorted(merged.items()))
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                total[key] = round(total.get(key, 0) + value, 3)
    return total


def crawl_report(search_stats: dict, shard_stats: list[dict], label: str) -> dict:
    shards = combine_stats(shard_stats)
    calls = combine_stats([{"calls": search_stats.get("calls", {})}, {"calls": shards.get("calls", {})}])["calls"]
    total, ok = sum(calls.values()), shards.get("ok", 0)
    return {
        "label": label,
        "queries": search_stats.get("queries", 0),
        "videos_planned": shards.get("videos", 0),
        "videos_collected": ok,
        "api_calls": total,
        "calls_per_collected_video": round(total / ok, 3) if ok else None,
        "wall_seconds_summed_over_jobs": round(search_stats.get("wall_seconds", 0) + shards.get("wall_seconds", 0), 3),
        "api_calls_by_method": calls,
        "failures_by_reason": shards.get("failures", {}),
        "retries_by_reason": combine_stats([{"r": search_stats.get("retries", {})}, {"r": shards.get("retries", {})}])["r"],
    }


def write_report(report: dict, json_path: Path, markdown_path: Path, title: str) -> None:
    atomic_write_text(json_path, json.dumps(report, indent=2) + "\n")
    lines = [f"# {title} ({report['label']})", "", "| | |", "|---|---|"]
    lines += [f"| {key.replace('_', ' ')} | {value} |" for key, value in report.items() if not isinstance(value, dict) and key != "label"]
    for key, value in report.items():
        if isinstance(value, dict):
            rows = [f"| {k} | {v} |" for k, v in value.items()] or ["| none | |"]
            lines += ["", f"## {key.replace('_', ' ')}", "", "| | |", "|---|---|"] + rows
    atomic_write_text(markdown_path, "\n".join(lines) + "\n")
