"""The 25K and 100K splits (paper Sec. 4), written in the authors' published format.

Only videos with a class label and a downloaded file can be in a split. Of those, by metadata
richness, as the paper: videos with every required metadata field present come first, ranked by the
number of words in their concatenated metadata; where too few have them all (the embedded world, a
small crawl), the ranking goes on with videos missing the fewest fields. Each split takes the top of
one ranking, so the smaller split is a subset of the larger. With `splits.source: official` the
authors' lists are read instead. Both are written in the authors' published format
(noisyactions.label_lists).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from noisyactions.dataset.columns import non_empty, row_lengths

FIELD_PRESENT = {
    "title": lambda t: non_empty(t["title"]),
    "description": lambda t: non_empty(t["description"]),
    "tags": lambda t: non_empty(t["tags"]),
    "comments": lambda t: non_empty(t["comments"]),
    "geolocation": lambda t: pc.is_valid(t["latitude"]),
}


def _word_count(table: pa.Table) -> np.ndarray:
    def words(column):
        return row_lengths(pc.utf8_split_whitespace(column))

    comment_words = np.zeros(table.num_rows, dtype=np.int64)
    comments = row_lengths(table["comments"])
    if comments.sum():
        owners = np.repeat(np.arange(table.num_rows), comments)
        np.add.at(comment_words, owners, words(pc.list_flatten(table["comments"])))
    return words(table["title"]) + words(table["description"]) + row_lengths(table["tags"]) + comment_words


def richness_ranking(table: pa.Table, required_fields: list[str]) -> np.ndarray:
    """Row indices, richest first: fields present (most first), then words (most first), then id."""
    unknown = [f for f in required_fields if f not in FIELD_PRESENT]
    if unknown:
        raise ValueError(f"dataset.splits.required_fields: unknown {unknown}; known: {sorted(FIELD_PRESENT)}")
    present = sum(FIELD_PRESENT[f](table).to_numpy(zero_copy_only=False).astype(int) for f in required_fields)
    words = _word_count(table)
    ids = np.array([int(i) for i in table["photo_id"].to_pylist()])
    return np.lexsort((ids, -words, -present))


def downloaded_ids(table: pa.Table) -> set[str]:
    """The videos with a downloaded file: the only ones a split may list, since the cache and the
    training read files (a never-downloaded video would be skipped there, and the split come up short)."""
    return set(table.filter(non_empty(table["video_path"]))["photo_id"].to_pylist())


def split_candidates(table: pa.Table) -> pa.Table:
    """The videos a multi-label split draws from: a class label (videos found only by sentence queries,
    or whose classes all fell under min_videos_per_class, have none) and a downloaded file."""
    return table.filter(pc.and_(non_empty(table["labels"]), non_empty(table["video_path"])))


def richness_splits(table: pa.Table, sizes: dict[str, int], required_fields: list[str]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Each split's video ids and labels, the richest of the split candidates, in id order."""
    table = split_candidates(table)
    order = richness_ranking(table, required_fields)
    ids, labels = table["photo_id"].to_pylist(), table["labels"].to_pylist()
    splits = {}
    for name, size in sizes.items():
        if size > table.num_rows:
            raise ValueError(f"dataset.splits.sizes.{name} = {size}, but the dataset has {table.num_rows} videos with a class label and a downloaded file")
        chosen = sorted(order[:size], key=lambda i: int(ids[i]))
        splits[name] = ([ids[i] for i in chosen], [labels[i] for i in chosen])
    return splits
