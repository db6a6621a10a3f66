"""Per-row sizes of the dataset table's list and text columns (labels, tags, comments, sentences,
entities, title, video_path), a null counting as empty.

Every reader of the table (statistics, splits, figures, Tables 1-2) asks "how many" or "any at all"
of these columns; one definition keeps them agreeing on what a null is. Kept apart from table.py, whose
crawl reading and reverse geocoding the readers do not need."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _sizes(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.fill_null(pc.utf8_length(column), 0)
    return pc.fill_null(pc.list_value_length(column), 0)


def row_lengths(column: pa.ChunkedArray) -> np.ndarray:
    """Each row's list elements, or its text's characters (0 for a null)."""
    return _sizes(column).to_numpy()


def non_empty(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """True where a row's list has an element or its text a character (false for a null)."""
    return pc.greater(_sizes(column), 0)
