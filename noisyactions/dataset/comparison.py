"""Table 1 of the paper: datasets for video understanding, with our dataset's row computed."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from noisyactions.dataset.columns import non_empty

COLUMNS = ("Dataset", "# Classes", "# Videos", "Noisy", "Meta Data", "Multi-Label", "Source", "Year")
# The paper's rows, with the paper's reference numbers (facts as published in its Table 1).
PAPER_ROWS = (
    ("HMDB51 [18]", "51", "7k", "✗", "✗", "✗", "Many", "2011"),
    ("UCF101 [37]", "101", "13k", "✗", "✗", "✗", "Youtube", "2012"),
    ("Sports-1M [14]", "487", "1M", "✓", "✗", "✗", "Youtube", "2014"),
    ("ActivityNet [2]", "200", "20k", "✗", "✗", "✗", "Youtube", "2015"),
    ("Charades [36]", "157", "10k", "✗", "✗", "✗", "Crowdsourced", "2016"),
    ("Youtube-8M [1]", "4800", "8M(features)", "✓*", "✗", "✓", "Youtube", "2016"),
    ("Kinetics [15]", "600", "500k", "✗", "✗", "✗", "Youtube", "2017"),
    ("Something-Something [11]", "174", "108k", "✗", "✗", "✗", "Crowdsourced", "2017"),
    ("AVA [12]", "80", "576k", "✗", "✗", "✗", "Youtube", "2018"),
    ("HACS [48]", "200", "140k", "✗", "✗", "✗", "Youtube", "2019"),
    ("HVU [6]", "3457", "572k", "✗", "✗", "✓", "Many", "2019"),
    ("Moments in Time [30]", "339", "1M", "✗", "✗", "✗", "Many", "2019"),
    ("NoisyActions2M (paper)", "7000", "2M", "✓", "✓", "✓", "Flickr", "2021"),
)


def _count(n: int) -> str:
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + suffix
    return str(n)


def our_row_label(scale: str) -> str:
    """Our row's name in Table 1 (the manuscript and the notebook look it up by it)."""
    return f"Ours ({scale})"


def our_row(table: pa.Table, scale: str) -> tuple:
    """Computed: classes, videos, multi-label (some video has several labels), metadata (videos carry
    text beyond the title). Noisy: labels come from search queries, unchecked, by construction."""
    labels = pc.list_value_length(table["labels"])
    has_text = pc.or_(non_empty(table["tags"]), non_empty(table["description"]))
    year = pd.to_datetime(pc.max(table["date_upload"]).as_py(), unit="s").year
    return (
        our_row_label(scale),
        str(pc.count_distinct(pc.list_flatten(table["labels"])).as_py()),
        _count(table.num_rows),
        "✓",
        "✓" if pc.any(has_text).as_py() else "✗",
        "✓" if pc.max(labels).as_py() > 1 else "✗",
        "Flickr",
        str(year),
    )


def table1_frame(table: pa.Table, scale: str) -> pd.DataFrame:
    return pd.DataFrame([*PAPER_ROWS, our_row(table, scale)], columns=COLUMNS)
