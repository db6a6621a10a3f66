"""Table 2 of the paper: statistics of the dataset table, computed column-wise so 2M rows take seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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


def _lengths(column: pa.ChunkedArray) -> np.ndarray:
    return pc.fill_null(pc.list_value_length(column), 0).to_numpy()


def label_statistics(table: pa.Table) -> dict:
    """Labels per labelled video and distinct labels: the numbers the authors' published lists can be
    checked on. Videos found only by sentence queries have no label and are not in the average."""
    per_video = _lengths(table["labels"])
    per_video = per_video[per_video > 0]
    distinct = pc.count_distinct(pc.list_flatten(table["labels"])).as_py()
    return {"videos": table.num_rows, "labelled_videos": len(per_video), "labels": distinct,
            "labels_per_video": float(per_video.mean()) if len(per_video) else 0.0}


def dataset_statistics(table: pa.Table, entities: pa.Table | None = None) -> dict:
    """Every statistic of Table 2 (rounded only when printed); entities need the entity table."""
    countries = table["country"].drop_null()
    country_count = pc.count_distinct(countries).as_py()
    duration = table["duration"].to_numpy(zero_copy_only=False).astype(float)
    tags, comments = _lengths(table["tags"]), _lengths(table["comments"])
    stats = {
        "Total number of Countries": country_count,
        "Average # videos per Country": len(countries) / country_count if country_count else 0.0,
        "Average # labels per Video": label_statistics(table)["labels_per_video"],
        "Average Duration": float(np.nanmean(duration)),
        "# videos with duration < 60s": int((duration < 60).sum()),
        "# videos between 60-120s": int(((duration >= 60) & (duration <= 120)).sum()),
        "Average # Entities per video": float(_lengths(entities["entities"]).mean()) if entities is not None else None,
        "Total # videos with tags": int((tags > 0).sum()),
        "Average # tags per video": float(tags[tags > 0].mean()) if (tags > 0).any() else 0.0,
        "Total # videos with comments": int((comments > 0).sum()),
        "Average # comments per video": float(comments[comments > 0].mean()) if (comments > 0).any() else 0.0,
    }
    return stats


def statistic_denominators(table: pa.Table, entities: pa.Table | None = None) -> dict[str, str]:
    """What each average of Table 2 is taken over, counted from the data (the caption states it)."""
    labelled = label_statistics(table)["labelled_videos"]
    countries = table["country"].drop_null()
    durations = int(np.count_nonzero(~np.isnan(table["duration"].to_numpy(zero_copy_only=False).astype(float))))
    tags, comments = _lengths(table["tags"]), _lengths(table["comments"])
    denominators = {
        "Average # videos per Country": f"the {len(countries):,} videos with a country, over their {pc.count_distinct(countries).as_py():,} countries",
        "Average # labels per Video": f"the {labelled:,} videos with a class label (not the {table.num_rows - labelled:,} found only by sentence queries)",
        "Average Duration": f"the {durations:,} videos with a duration",
        "Average # tags per video": f"the {int((tags > 0).sum()):,} videos with tags",
        "Average # comments per video": f"the {int((comments > 0).sum()):,} videos with comments",
    }
    if entities is not None:
        none = int((_lengths(entities["entities"]) == 0).sum())
        denominators["Average # Entities per video"] = f"all {entities.num_rows:,} videos, {none:,} of them with no entity type"
    return denominators


def table2_caption(denominators: dict[str, str]) -> str:
    """The sentence Table 2's caption adds: each average and the videos it is taken over."""
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
