"""How much of a published video list this crawl has: listed, found, missing, dropped, kept.

Flickr videos vanish (deleted, made private) and a fresh crawl does not meet every id the authors
listed, so a listed video without a downloaded file is skipped and counted, never fatal by itself; a
list is refused only when more than `max_missing_fraction` of it is missing
(dataset.splits.official.max_missing_fraction), with an error naming the list file and its counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from noisyactions.atomic import atomic_write_text

COLUMNS = ("split", "list", "listed", "found", "missing", "missing_fraction", "dropped_by_label_rule", "kept")


class ListCoverageError(ValueError):
    pass


@dataclass(frozen=True)
class ListCoverage:
    """One list against the dataset: `found` have a downloaded video, `dropped_by_label_rule` of those
    lost every label under dataset.min_videos_per_class, `kept` are the rest (what is trained on)."""

    split: str
    list_path: str
    listed: int
    found: int
    dropped_by_label_rule: int = 0

    @property
    def missing(self) -> int:
        return self.listed - self.found

    @property
    def kept(self) -> int:
        return self.found - self.dropped_by_label_rule

    @property
    def missing_fraction(self) -> float:
        return self.missing / self.listed if self.listed else 0.0

    def row(self) -> dict:
        return {"split": self.split, "list": self.list_path, "listed": self.listed, "found": self.found, "missing": self.missing,
                "missing_fraction": round(self.missing_fraction, 6), "dropped_by_label_rule": self.dropped_by_label_rule, "kept": self.kept}


def check_missing(coverage: ListCoverage, max_missing_fraction: float | None, missing_ids: list[str]) -> None:
    """Refuse a list that misses more than `max_missing_fraction` of its videos (None: no limit)."""
    if max_missing_fraction is None or coverage.missing_fraction <= max_missing_fraction:
        return
    raise ListCoverageError(
        f"{coverage.list_path}: {coverage.missing:,} of {coverage.listed:,} listed videos ({coverage.missing_fraction:.2%}) have no "
        f"downloaded video in the dataset table, more than dataset.splits.official.max_missing_fraction = {max_missing_fraction:.2%} "
        f"({coverage.found:,} found; first missing ids: {', '.join(missing_ids[:5])})"
    )


def write_coverage_report(coverages: list[ListCoverage], csv_path: Path, json_path: Path, md_path: Path, title: str) -> None:
    frame = pd.DataFrame([c.row() for c in coverages], columns=list(COLUMNS))
    atomic_write_text(csv_path, frame.to_csv(index=False))
    atomic_write_text(json_path, json.dumps({"title": title, "splits": frame.to_dict(orient="records")}, indent=2) + "\n")
    lines = [f"**{title}**", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(f"{v:.2%}" if k == "missing_fraction" else f"{v:,}" if isinstance(v, int) else str(v) for k, v in row.items()) + " |"
              for row in frame.to_dict(orient="records")]
    atomic_write_text(md_path, "\n".join(lines) + "\n")
