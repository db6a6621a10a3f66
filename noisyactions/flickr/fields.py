"""Flickr's per-video fields as Arrow types: one definition for the table the embedded server serves
and the records the crawler writes, so the two cannot drift apart."""

from __future__ import annotations

import pyarrow as pa

COMMENT = pa.struct(
    [("id", pa.string()), ("author", pa.string()), ("authorname", pa.string()), ("datecreate", pa.int64()), ("content", pa.string())]
)

IDENTITY = [("photo_id", pa.string()), ("secret", pa.string())]
"""What names a video in the API."""

DESCRIPTION = [
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
]
"""What the paper keeps about a video (Sec. 3), plus license, owner and views."""
