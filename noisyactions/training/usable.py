"""Which videos of a cache index training reads, and the full test list that accuracy is measured on.

The cache records every listed video with a status: `ok`; `partial` (decoded part-way: the frames that
decoded are cached); anything else (`undecodable`, ...) has nothing to read. Which are usable is
decode.usable (ok, and partial ones when `video.cache.use_partial`). Training uses the usable videos
only, and logs how many it skipped and why. Testing keeps every video of the official test list: a
test-mode ClipDataset over the whole list hands back an unusable one as a failure, counted as a wrong
prediction like a usable one whose clips fail at read time, so every table's denominator is the whole
list (the paper's, and the only one that compares across decoders and caches).
"""

from __future__ import annotations

import logging

import pandas as pd

from noisyactions.video.decode import usable

log = logging.getLogger(__name__)


def usable_rows(index: pd.DataFrame, use_partial: bool) -> pd.Series:
    """True for the rows whose cached frames training may read."""
    return index["status"].map(lambda status: usable(status, use_partial)).astype(bool)


def log_skipped(index: pd.DataFrame, is_usable: pd.Series, what: str) -> int:
    """Log how many of `index`'s rows are not usable, per status, with the first one's error; return how many."""
    skipped = index[~is_usable]
    if len(skipped):
        first = skipped.iloc[0]
        statuses = ", ".join(f"{n} {status}" for status, n in skipped["status"].value_counts().items())
        log.warning("%s: %d of %d videos not usable (%s); first: %s (%s)",
                    what, len(skipped), len(index), statuses, first["path"], first.get("error", ""))
    return len(skipped)


def usable_training_videos(index: pd.DataFrame, use_partial: bool, what: str) -> pd.DataFrame:
    """The rows of `index` training may read, the skipped ones logged; an error naming `what` (the cache
    index and the job) when none is left, since a run on nothing would only fail later and less clearly."""
    is_usable = usable_rows(index, use_partial)
    log_skipped(index, is_usable, what)
    if not is_usable.any():
        raise ValueError(f"{what}: none of the {len(index)} videos is usable for training")
    return index[is_usable].reset_index(drop=True)
