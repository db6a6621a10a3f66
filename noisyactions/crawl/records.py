"""One crawled video: the fields the paper lists (Sec. 3) plus license, owner and views, with the
record's own status and error. This schema is the crawl's output contract with the dataset stage."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from noisyactions.flickr import fields

SOURCE = pa.struct([("label", pa.string()), ("width", pa.int32()), ("height", pa.int32()), ("url", pa.string())])

RECORD_SCHEMA = pa.schema(
    fields.IDENTITY
    + [("status", pa.string()), ("error", pa.string())]  # status: ok | not_found | permission_denied | failed
    + fields.DESCRIPTION
    + [
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("comment_count", pa.int32()),
        ("comments", pa.list_(fields.COMMENT)),
        ("sources", pa.list_(SOURCE)),
        ("page_url", pa.string()),
        ("concepts", pa.list_(pa.string())),
        ("sentences", pa.list_(pa.string())),
    ]
)

OK = "ok"
RETRYABLE = "failed"


def empty_record(photo_id: str, concepts: list[str], sentences: list[str], status: str, error: str) -> dict:
    """A video we could not fetch: only what the plan knew, and why."""
    record = {name: None for name in RECORD_SCHEMA.names}
    record.update(photo_id=photo_id, concepts=concepts, sentences=sentences, status=status, error=error, tags=[], comments=[], sources=[])
    return record


def to_table(records: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(sorted(records, key=lambda r: int(r["photo_id"])), schema=RECORD_SCHEMA)


def status_summary(rows: list[dict]) -> dict:
    """How many rows, how many ok, and the others by status: the head of every shard's stats."""
    statuses = Counter(row["status"] for row in rows)
    return {"videos": len(rows), "ok": statuses.get(OK, 0), "failures": {s: n for s, n in sorted(statuses.items()) if s != OK}}
