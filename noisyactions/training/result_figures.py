"""Tables 3-7 as figures: every repeat of every cell, its mean with a 95% bootstrap CI, and the paper's
number beside it.

A table of means ± std hides how the repeats fall and whether the paper's number lies among them; a
figure shows both at a glance. Its title says at what scale our runs were made, so a figure of the
embedded world's runs is never read as the paper's result.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from noisyactions.claims import mean_ci95
from noisyactions.training.model_names import MODEL_NAMES
from noisyactions.training.result_tables import ResultTable, Row, Runs, check_runs, top1_percent

if TYPE_CHECKING:  # plotting is imported where a figure is drawn: training jobs import this package and have no matplotlib
    import matplotlib.pyplot as plt

STRIP_WIDTH = 0.8  # seaborn's width of a category's slot, which stripplot(dodge=True) shares among the hue levels
TITLE_WIDTH = 90  # characters per title line: Table 4's title is longer than any figure is wide
FRAME_COLUMNS = ["row", "column", "seed", "top1", "paper"]
PAPER_MARKER = "D"  # hollow, so repeats that land on the paper's number stay visible through it


def row_name(row: Row, split: str) -> str:
    """The row's labels as one x tick; Table 3 needs both labels, since its loss names repeat the strategy."""
    return ", ".join(label.format(split=split) for label in row.labels)


def _paper_value(value: float | None) -> float:
    """NaN where the paper has no such cell, so the frame's column stays numeric."""
    return math.nan if value is None else float(value)


def plotted_repeats(table: ResultTable, results: Runs, split: str) -> pd.DataFrame:
    """One line per repeat, in the table's row and column order and seed order, with the paper's number
    of its cell: what the figure draws, and what a test can compare with the result files."""
    check_runs(table, results, split)
    lines = []
    for row in table.rows:
        for column, paper in zip(table.columns, row.paper):
            runs = results[table.cell(row, column, split)]
            lines += [{"row": row_name(row, split), "column": column.name, "seed": int(seed),
                       "top1": top1_percent(runs[seed]), "paper": _paper_value(paper)} for seed in sorted(runs)]
    return pd.DataFrame(lines, columns=FRAME_COLUMNS)


def dodge_offsets(hues: int) -> np.ndarray:
    """Where stripplot(dodge=True) centres each hue level within a category (seaborn's _nested_offsets),
    so the means and the paper's markers sit on their own repeats' strip."""
    slot = STRIP_WIDTH / hues
    return slot * (np.arange(hues) + 0.5) - STRIP_WIDTH / 2


def _cell_positions(frame: pd.DataFrame, rows: list[str], columns: list[str]) -> pd.DataFrame:
    """Per cell: its x (row index + its column's dodge offset), our mean and CI, and the paper's number."""
    offsets = dict(zip(columns, dodge_offsets(len(columns))))
    cells = []
    for (row, column), repeats in frame.groupby(["row", "column"], sort=False):
        low, high = mean_ci95(repeats["top1"].to_numpy())
        cells.append({"x": rows.index(row) + offsets[column], "column": column, "mean": repeats["top1"].mean(),
                      "low": low, "high": high, "paper": repeats["paper"].iloc[0]})
    return pd.DataFrame(cells)


def _legend_handles(palette: list, columns: list[str]) -> list:
    from matplotlib.lines import Line2D

    hues = [Line2D([], [], marker="o", linestyle="none", color=colour, label=name) for colour, name in zip(palette, columns)]
    return hues + [
        Line2D([], [], marker="_", markersize=14, markeredgewidth=2, color="0.2", label="our mean, 95% bootstrap CI"),
        Line2D([], [], marker=PAPER_MARKER, linestyle="none", markerfacecolor="none", markeredgecolor="black", markersize=8,
               markeredgewidth=1.5, label="paper"),
    ]


def _draw_means_and_paper(axes, cells: pd.DataFrame, colours: dict) -> None:
    for cell in cells.itertuples():
        axes.errorbar(cell.x, cell.mean, yerr=[[cell.mean - cell.low], [cell.high - cell.mean]], fmt="_", markersize=18,
                      markeredgewidth=2.5, color=colours[cell.column], ecolor="0.2", elinewidth=1.5, capsize=5, zorder=3)
    papers = cells.dropna(subset=["paper"])
    axes.scatter(papers["x"], papers["paper"], marker=PAPER_MARKER, s=70, facecolors="none", edgecolors="black", linewidths=1.5, zorder=4)


def figure_title(table: ResultTable, model: str, split: str, scale: str) -> str:
    title = textwrap.fill(table.title.format(split=split, model=MODEL_NAMES[model]), TITLE_WIDTH)
    return f"{title}\nOurs: {scale}"


def result_plot(frame: pd.DataFrame, title: str) -> plt.Figure:
    """Repeats as dodged points per row, coloured by column, with our mean ± CI and the paper's diamond on each strip."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows, columns = list(dict.fromkeys(frame["row"])), list(dict.fromkeys(frame["column"]))
    palette = sns.color_palette(n_colors=len(columns))
    figure, axes = plt.subplots(figsize=(max(6.0, 1.5 * len(rows) + 2.5), 5.0))
    sns.stripplot(data=frame, x="row", y="top1", hue="column", order=rows, hue_order=columns, palette=palette,
                  dodge=True, jitter=True, size=6, alpha=0.75, legend=False, ax=axes)
    _draw_means_and_paper(axes, _cell_positions(frame, rows, columns), dict(zip(columns, palette)))
    axes.set(xlabel="", ylabel="top-1 video accuracy (%)")
    axes.set_title(title, fontsize=9, loc="left")
    axes.tick_params(axis="x", labelrotation=30)
    plt.setp(axes.get_xticklabels(), ha="right", rotation_mode="anchor")
    axes.legend(handles=_legend_handles(palette, columns), loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure


def result_figure(table: ResultTable, results: Runs, model: str, split: str, scale: str, outputs: dict) -> pd.DataFrame:
    """`results`: every run of table.runs(split), each with its repeats (as build_table takes them).
    Writes outputs["png"] and outputs["pdf"] atomically; returns the repeats drawn (plotted_repeats)."""
    from noisyactions.dataset.figures import save  # imports matplotlib: only here, where a figure is drawn

    frame = plotted_repeats(table, results, split)
    save(result_plot(frame, figure_title(table, model, split, scale)), Path(outputs["pdf"]), Path(outputs["png"]))
    return frame
