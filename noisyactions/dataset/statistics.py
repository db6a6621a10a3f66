"""Table 2 of the paper: statistics of the dataset table, computed column-wise so 2M rows take seconds."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from noisyactions.dataset.columns import row_lengths

# (statistic, the paper's value) in the paper's order.
PAPER_TABLE2 = (
    ("Total number of Countries", 212),
    ("Average # videos per Country", 980),
    ("Average # labels per Video", 4),
    ("Average Duration", "123s"),
    ("# videos with duration < 60s", 1723439),
    ("# videos between 60-120s", 423512),
    ("Average # Entities per video", 6),
    ("Total # videos with tags", 968586),
    ("Average # tags per video", 12),
    ("Total # videos with comments", 230269),
    ("Average # comments per video", 5),
)


def label_statistics(table: pa.Table) -> dict:
    """Labels per labelled video and distinct labels: the numbers the authors' published lists can be
    checked on. Videos without a class label (found only by sentence queries, or whose classes all fell
    under min_videos_per_class) are not in the average."""
    per_video = row_lengths(table["labels"])
    per_video = per_video[per_video > 0]
    distinct = pc.count_distinct(pc.list_flatten(table["labels"])).as_py()
    return {"videos": table.num_rows, "labelled_videos": len(per_video), "labels": distinct,
            "labels_per_video": float(per_video.mean()) if len(per_video) else 0.0}


@dataclass(frozen=True)
class Table2Statistics:
    """Table 2's statistics and, from the same counts, what each average is taken over (the caption
    states it): one computation, so the caption cannot disagree with the numbers."""

    values: dict  # statistic -> value, rounded only when printed; None when not computed
    denominators: dict[str, str]  # average -> the videos it is taken over


Part = tuple[dict, dict[str, str]]  # (values, denominators) of some of Table 2's statistics


def _countries(table: pa.Table) -> Part:
    countries = table["country"].drop_null()
    count = pc.count_distinct(countries).as_py()
    return ({"Total number of Countries": count, "Average # videos per Country": len(countries) / count if count else 0.0},
            {"Average # videos per Country": f"the {len(countries):,} videos with a country, over their {count:,} countries"})


def _labels(table: pa.Table) -> Part:
    labels = label_statistics(table)
    without = labels["videos"] - labels["labelled_videos"]
    return ({"Average # labels per Video": labels["labels_per_video"]},
            {"Average # labels per Video": f"the {labels['labelled_videos']:,} videos with a class label (not the {without:,} without a class label)"})


def _durations(table: pa.Table) -> Part:
    duration = table["duration"].to_numpy(zero_copy_only=False).astype(float)
    known = int(np.count_nonzero(~np.isnan(duration)))
    return ({"Average Duration": float(np.nanmean(duration)), "# videos with duration < 60s": int((duration < 60).sum()),
             "# videos between 60-120s": int(((duration >= 60) & (duration <= 120)).sum())},
            {"Average Duration": f"the {known:,} videos with a duration"})


def _videos_with(table: pa.Table, column: str) -> Part:
    """Videos with any `column` (tags, comments) and the average number of them over those videos."""
    lengths = row_lengths(table[column])
    having = lengths[lengths > 0]
    return ({f"Total # videos with {column}": len(having), f"Average # {column} per video": float(having.mean()) if len(having) else 0.0},
            {f"Average # {column} per video": f"the {len(having):,} videos with {column}"})


def _entities(entities: pa.Table | None) -> Part:
    if entities is None:
        return {"Average # Entities per video": None}, {}
    per_video = row_lengths(entities["entities"])
    return ({"Average # Entities per video": float(per_video.mean())},
            {"Average # Entities per video": f"all {entities.num_rows:,} videos, {int((per_video == 0).sum()):,} of them with no entity type"})


def table2_statistics(table: pa.Table, entities: pa.Table | None = None) -> Table2Statistics:
    """Every statistic of Table 2 and its denominator; entities need the entity table."""
    parts = [_countries(table), _labels(table), _durations(table), _entities(entities), _videos_with(table, "tags"), _videos_with(table, "comments")]
    return Table2Statistics({k: v for values, _ in parts for k, v in values.items()},
                            {k: v for _, denominators in parts for k, v in denominators.items()})


def dataset_statistics(table: pa.Table, entities: pa.Table | None = None) -> dict:
    """Table 2's values alone (what table2_frame prints; the scale benchmark times them)."""
    return table2_statistics(table, entities).values


def table2_caption(statistics: Table2Statistics) -> str:
    """The sentence Table 2's caption adds: each average and the videos it is taken over."""
    denominators = statistics.denominators
    order = [name for name, _ in PAPER_TABLE2 if name in denominators]
    return "Averages are over: " + "; ".join(f"{name}, {denominators[name]}" for name in order) + "."


def table2_frame(stats: dict, scale: str) -> pd.DataFrame:
    def shown(name, value):
        if value is None:
            return "not computed"
        if name == "Average Duration":
            return f"{value:.0f}s"
        return f"{value:.0f}" if isinstance(value, float) else str(value)

    return pd.DataFrame(
        {"Statistic": [name for name, _ in PAPER_TABLE2], "Paper": [value for _, value in PAPER_TABLE2],
         f"Ours ({scale})": [shown(name, stats[name]) for name, _ in PAPER_TABLE2]}
    )
