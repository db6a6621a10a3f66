"""Figures 1-5 of the paper, drawn from the dataset table (and the downloaded videos), PDF and PNG.

Each figure's title says at what scale it was made ("embedded synthetic world" or "paper scale").
"""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
import seaborn as sns  # noqa: E402

from noisyactions.atomic import atomic_path  # noqa: E402
from noisyactions.dataset.columns import non_empty, row_lengths  # noqa: E402
from noisyactions.dataset.world_map import count_colorbar, draw_choropleth  # noqa: E402
from noisyactions.video.decode import sample_frames  # noqa: E402

sns.set_theme(style="whitegrid", context="paper")


def save(figure: plt.Figure, pdf_path: Path, png_path: Path) -> None:
    for path, kwargs in ((pdf_path, {}), (png_path, {"dpi": 150})):
        with atomic_path(Path(path)) as tmp:
            figure.savefig(tmp, format=Path(path).suffix[1:], bbox_inches="tight", **kwargs)
    plt.close(figure)


def figure1_label_distribution(table: pa.Table, scale: str) -> plt.Figure:
    """Videos per label, ranked, and labels per labelled video, on log10 scales (paper Figure 1); videos
    without a class label (found only by sentence queries, or whose classes all fell under
    min_videos_per_class) are counted in the title, not the bars."""
    counts = pc.value_counts(pc.list_flatten(table["labels"]))
    per_label = np.sort(counts.field("counts").to_numpy())[::-1]
    per_video = row_lengths(table["labels"])
    unlabelled = int((per_video == 0).sum())
    per_video = per_video[per_video > 0]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    left.plot(np.arange(1, len(per_label) + 1), per_label, color="tab:blue")
    left.set(xscale="log", yscale="log", xlabel="label rank", ylabel="videos per label", title=f"{len(per_label):,} labels")
    values, frequency = np.unique(per_video, return_counts=True)
    right.bar(values, frequency, color="tab:orange")
    right.set(yscale="log", xlabel="labels per video", ylabel="videos",
              title=f"{len(per_video):,} labelled videos" + (f" (+{unlabelled:,} without a class label)" if unlabelled else ""))
    figure.suptitle(f"Distribution of labels and videos ({scale})")
    return figure


def figure2_entities(entities: pa.Table, scale: str) -> plt.Figure:
    """Videos per entity type (paper Figure 2): a video counts once for each type it has."""
    counts = Counter(label for row in entities["entities"].to_pylist() for label in row)
    frame = pd.DataFrame(counts.most_common(), columns=["entity", "videos"])
    figure, axes = plt.subplots(figsize=(8, 0.28 * max(len(frame), 4) + 1))
    sns.barplot(frame, y="entity", x="videos", ax=axes, color="tab:green")
    axes.set(title=f"Entity types in the metadata ({scale})", xlabel="videos", ylabel="")
    return figure


def figure4_countries(table: pa.Table, scale: str, top: int = 15) -> plt.Figure:
    """Where the geotagged videos are (red), over countries shaded by their number of videos, and the
    countries with most videos (paper Figure 4). The map is drawn from data shipped with installed
    packages (world_map), so the figure needs no internet."""
    geo = table.filter(pc.is_valid(table["latitude"]))
    figure, (world, bars) = plt.subplots(1, 2, figsize=(14, 4.6), gridspec_kw={"width_ratios": [2.3, 1]}, layout="constrained")
    per_code = Counter(code for code in geo["country_code"].to_pylist() if code)
    shaded = draw_choropleth(world, per_code)
    count_colorbar(figure, shaded, world, "videos per country (log scale)")
    world.scatter(geo["longitude"].to_numpy(), geo["latitude"].to_numpy(), s=4, color="red", alpha=0.6, linewidths=0, zorder=3)
    world.set(xlabel="longitude", ylabel="latitude", title=f"{geo.num_rows:,} geotagged videos")
    counts = pd.Series(geo["country"].to_pylist()).value_counts().head(top)
    sns.barplot(x=counts.values, y=counts.index, ax=bars, color="tab:red")
    bars.set(xlabel="videos", ylabel="", title=f"top {len(counts)} of {pc.count_distinct(geo['country']).as_py()} countries")
    figure.suptitle(f"Country distribution of videos ({scale})")
    return figure


def _with_videos(table: pa.Table) -> pa.Table:
    return table.filter(non_empty(table["video_path"]))


def figure3_samples(table: pa.Table, scale: str, videos: int = 3, frames: int = 4) -> plt.Figure:
    """Frames of the videos with the richest metadata, beside that metadata (paper Figure 3)."""
    table = _with_videos(table)
    richness = row_lengths(table["description"]) + 10 * row_lengths(table["tags"]) + 20 * row_lengths(table["comments"])
    rows = [table.slice(int(i), 1).to_pylist()[0] for i in np.argsort(-richness, kind="stable")[:videos]]
    figure, axes = plt.subplots(len(rows), frames + 1, figsize=(2.2 * frames + 5, 2.2 * len(rows)),
                                gridspec_kw={"width_ratios": [1] * frames + [2.6]}, squeeze=False)
    for row_axes, row in zip(axes, rows):
        for ax, frame in zip(row_axes[:frames], sample_frames(Path(row["video_path"]), frames)):
            ax.imshow(frame)
            ax.axis("off")
        text = [f"Title: {row['title']}", f"Labels: {', '.join(row['labels'])}", f"Tags: {' '.join(row['tags'][:10])}",
                f"Description: {row['description'][:120]}", f"Comments: {row['comment_count']}", f"Country: {row['country'] or '-'}"]
        row_axes[-1].text(0, 0.5, "\n".join(textwrap.shorten(t, 60) for t in text), va="center", fontsize=7, family="monospace")
        row_axes[-1].axis("off")
    figure.suptitle(f"Frames from videos and their metadata ({scale})")
    return figure


def figure5_classes(table: pa.Table, scale: str, classes: int = 4, per_class: int = 5) -> plt.Figure:
    """A middle frame of several videos from each of the most common classes (paper Figure 5)."""
    table = _with_videos(table)
    counts = pc.value_counts(pc.list_flatten(table["labels"]))
    order = np.argsort(-counts.field("counts").to_numpy(), kind="stable")[:classes]
    names = [counts.field("values")[int(i)].as_py() for i in order]
    rows = table.to_pylist()
    figure, axes = plt.subplots(len(names), per_class, figsize=(2 * per_class, 1.8 * len(names)), squeeze=False)
    for row_axes, name in zip(axes, names):
        members = [r for r in rows if name in r["labels"]][:per_class]
        for ax in row_axes:
            ax.axis("off")
        for ax, member in zip(row_axes, members):
            ax.imshow(sample_frames(Path(member["video_path"]), 3)[1])
        row_axes[0].set_title(name, loc="left", fontsize=9)
    figure.suptitle(f"Videos from several classes ({scale})")
    return figure


# The dataset table's columns each figure reads: a paper-scale table has 2M rows of text (Figure 2 reads the entities).
FIGURE_COLUMNS = {"figure1": ["labels"], "figure4": ["latitude", "longitude", "country", "country_code"], "figure5": ["labels", "video_path"],
                  "figure3": ["video_path", "title", "labels", "tags", "description", "comments", "comment_count", "country"]}
FIGURES = {
    "figure1": lambda t, e, scale, cfg: figure1_label_distribution(t, scale),
    "figure2": lambda t, e, scale, cfg: figure2_entities(e, scale),
    "figure3": lambda t, e, scale, cfg: figure3_samples(t, scale, videos=cfg["sample_videos"]),
    "figure4": lambda t, e, scale, cfg: figure4_countries(t, scale),
    "figure5": lambda t, e, scale, cfg: figure5_classes(t, scale, classes=cfg["classes"], per_class=cfg["videos_per_class"]),
}


def draw_figure(name: str, table_path: Path, entities_path: Path | None, scale: str, config: dict, pdf: Path, png: Path) -> None:
    """The `figure` rule's job: one of Figures 1-5 from the dataset table, saved as PDF and PNG."""
    table = pq.read_table(table_path, columns=FIGURE_COLUMNS.get(name, []))
    found = pq.read_table(entities_path) if entities_path else None
    save(FIGURES[name](table, found, scale, config), pdf, png)
