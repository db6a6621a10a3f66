"""The 25K and 100K splits (paper Sec. 4), written in the authors' published format.

By metadata richness, as the paper: videos with every required metadata field present come first,
ranked by the number of words in their concatenated metadata; where too few have them all (the
embedded world, a small crawl), the ranking goes on with videos missing the fewest fields. Each
split takes the top of one ranking, so the smaller split is a subset of the larger. With
`splits.source: official` the authors' lists are read instead. Both are written in the authors'
published format (noisyactions.label_lists).
"""

from __future__ import annotations


import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


FIELD_PRESENT = {
    "title": lambda t: pc.greater(pc.utf8_length(pc.fill_null(t["title"], "")), 0),
    "description": lambda t: pc.greater(pc.utf8_length(pc.fill_null(t["description"], "")), 0),
    "tags": lambda t: pc.greater(pc.fill_null(pc.list_value_length(t["tags"]), 0), 0),
    "comments": lambda t: pc.greater(pc.fill_null(pc.list_value_length(t["comments"]), 0), 0),
    "geolocation": lambda t: pc.is_valid(t["latitude"]),
}


def _word_count(table: pa.Table) -> np.ndarray:
    def words(column):
        return pc.fill_null(pc.list_value_length(pc.utf8_split_whitespace(pc.fill_null(column, ""))), 0).to_numpy()

    tags = pc.fill_null(pc.list_value_length(table["tags"]), 0).to_numpy()
    comment_words = np.zeros(table.num_rows, dtype=np.int64)
    lengths = pc.fill_null(pc.list_value_length(table["comments"]), 0).to_numpy()
    if lengths.sum():
        flat = pc.list_value_length(pc.utf8_split_whitespace(pc.list_flatten(table["comments"]))).to_numpy()
        owners = np.repeat(np.arange(table.num_rows), lengths)
        np.add.at(comment_words, owners, flat)
    return words(table["title"]) + words(table["description"]) + tags + comment_words


def richness_ranking(table: pa.Table, required_fields: list[str]) -> np.ndarray:
    """Row indices, richest first: fields present (most first), then words (most first), then id."""
    unknown = [f for f in required_fields if f not in FIELD_PRESENT]
    if unknown:
        raise ValueError(f"dataset.splits.required_fields: unknown {unknown}; known: {sorted(FIELD_PRESENT)}")
    present = sum(FIELD_PRESENT[f](table).to_numpy(zero_copy_only=False).astype(int) for f in required_fields)
    words = _word_count(table)
    ids = np.array([int(i) for i in table["photo_id"].to_pylist()])
    return np.lexsort((ids, -words, -present))


def richness_splits(table: pa.Table, sizes: dict[str, int], required_fields: list[str]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Multi-label splits: only videos with a class label compete (sentence-only videos have none)."""
    table = table.filter(pc.greater(pc.fill_null(pc.list_value_length(table["labels"]), 0), 0))
    order = richness_ranking(table, required_fields)
    ids, labels = table["photo_id"].to_pylist(), table["labels"].to_pylist()
    splits = {}
    for name, size in sizes.items():
        if size > table.num_rows:
            raise ValueError(f"dataset.splits.sizes.{name} = {size}, but the dataset has {table.num_rows} videos with a class label")
        chosen = sorted(order[:size], key=lambda i: int(ids[i]))
        splits[name] = ([ids[i] for i in chosen], [labels[i] for i in chosen])
    return splits
