"""Which videos of a cache index training reads, and the full test list that accuracy is measured on.

The cache records every listed video with a status: `ok`; `partial` (decoded part-way: the frames that
decoded are cached); anything else (`undecodable`, ...) has nothing to read. Training uses the usable
videos only (ok, and partial ones when `video.cache.use_partial`), and logs how many it skipped and why.
Testing keeps every video of the official test list: an unusable one is a failure, counted as a wrong
prediction like a usable one whose clips fail at read time, so every table's denominator is the whole
list (the paper's, and the only one that compares across decoders and caches).
"""

from __future__ import annotations

import logging

import pandas as pd
from torch.utils.data import Dataset

from noisyactions.video.reader import ClipFailure

log = logging.getLogger(__name__)


def usable_rows(index: pd.DataFrame, use_partial: bool) -> pd.Series:
    """True for the rows whose cached frames training may read."""
    return (index["status"] == "ok") | ((index["status"] == "partial") & use_partial)


def log_skipped(index: pd.DataFrame, usable: pd.Series, what: str) -> int:
    """Log how many of `index`'s rows are not usable, per status, with the first one's error; return how many."""
    skipped = index[~usable]
    if len(skipped):
        first = skipped.iloc[0]
        statuses = ", ".join(f"{n} {status}" for status, n in skipped["status"].value_counts().items())
        log.warning("%s: %d of %d videos not usable (%s); first: %s (%s)",
                    what, len(skipped), len(index), statuses, first["path"], first.get("error", ""))
    return len(skipped)


class EveryTestVideo(Dataset):
    """Every row of a test list: usable rows come from `readable` (a test-mode ClipDataset over exactly
    those rows, in order), the others as failures that name their cache status."""

    def __init__(self, rows: pd.DataFrame, usable: pd.Series, readable: Dataset):
        self.rows = rows.reset_index(drop=True)
        self.usable = usable.to_numpy(dtype=bool)
        if len(readable) != int(self.usable.sum()):
            raise ValueError(f"{len(readable)} readable videos for {int(self.usable.sum())} usable test rows")
        self.readable = readable
        self.position = self.usable.cumsum() - 1  # row -> item of `readable`

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> dict:
        if self.usable[item]:
            return {**self.readable[int(self.position[item])], "index": item}
        row = self.rows.iloc[item]
        reason = f"not usable in the cache: status {row['status']} ({row.get('error', '')})"
        return {"failure": ClipFailure(str(row["path"]), reason), "index": item}
