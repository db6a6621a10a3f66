"""One crawled video: the fields the paper lists (Sec. 3) plus license, owner and views, with the
record's own status and error. This schema is the crawl's output contract with the dataset stage."""

from __future__ import annotations

import pyarrow as pa

COMMENT = pa.struct([("id", pa.string()), ("author", pa.string()), ("authorname", pa.string()), ("datecreate", pa.int64()), ("content", pa.string())])
SOURCE = pa.struct([("label", pa.string()), ("width", pa.int32()), ("height", pa.int32()), ("url", pa.string())])

RECORD_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("status", pa.string()),  # ok | not_found | permission_denied | failed
        ("error", pa.string()),
        ("secret", pa.string()),
        ("owner", pa.string()),
        ("owner_name", pa.string()),
        ("realname", pa.string()),
        ("title", pa.string()),
        ("description", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("date_upload", pa.int64()),
        ("date_taken", pa.string()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("accuracy", pa.int32()),
        ("locality", pa.string()),
        ("country", pa.string()),
        ("license", pa.int32()),
        ("views", pa.int64()),
        ("duration", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("comment_count", pa.int32()),
        ("comments", pa.list_(COMMENT)),
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
