"""Tables 3-5: which fine-tuning runs fill each row, the paper's numbers, and the table written from our
results beside them.

A table is a list of rows, each a pretraining (an inits.py name, where "{split}" stands for the table's
split in training.tables) and the paper's top-1 per downstream set. The model and split come from
the config, so the caption says which ones produced our column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from noisyactions.tables import write_paper_table
from noisyactions.training.models import MODEL_NAMES

DATASET_NAMES = {"ucf101": "UCF101", "hmdb51": "HMDB51"}


@dataclass(frozen=True)
class Row:
    labels: tuple[str, ...]  # the row's label columns; "{split}" is the table's split
    init: str  # inits.py name; "{split}" is the table's split
    paper: tuple[float, ...]  # the paper's top-1 (%), one per dataset of the table


@dataclass(frozen=True)
class ResultTable:
    title: str  # "{model}" and "{split}" are the table's
    label_columns: tuple[str, ...]
    datasets: tuple[str, ...]
    rows: tuple[Row, ...]

    def runs(self, split: str) -> list[tuple[str, str]]:
        """(downstream set, pretraining name) of every fine-tuning the table needs."""
        return [(dataset, row.init.format(split=split)) for row in self.rows for dataset in self.datasets]


TABLES = {
    "table3": ResultTable(
        "Table 3: Loss functions during pretraining on the {split} split with {model}, fine-tuned on UCF101 (top-1 video accuracy, %).",
        ("Pretraining", "Loss Function"), ("ucf101",), (
            Row(("None", "-"), "scratch", (44.54,)),
            Row(("Single Label", "CCE"), "{split}_cce", (39.78,)),
            Row(("Single Label", "CCE-Mask"), "{split}_cce_mask", (40.73,)),
            Row(("Multi Label", "BCELoss"), "{split}_bce", (44.77,)),
            Row(("Multi Label", "Focal"), "{split}_focal", (45.04,)),
            Row(("Multi Label", "Balanced-Focal"), "{split}_balanced_focal", (45.38,)),
        )),
    "table4": ResultTable(
        "Table 4: Pretraining strategies and their combinations with the {split} split and {model}, fine-tuned on UCF101 "
        "(top-1 video accuracy, %). MLP-BF: multi-label pretraining with Balanced-Focal loss; SSL-Kinetics: PCL on the "
        "curated set (the paper: 26,392 Kinetics-400 videos).",
        ("Pretraining strategy",), ("ucf101",), (
            Row(("None",), "scratch", (44.54,)),
            Row(("SSL-UCF",), "ssl_ucf101", (49.17,)),
            Row(("SSL-Kinetics",), "ssl_curated", (53.21,)),
            Row(("SSL-{split}",), "ssl_{split}", (51.57,)),
            Row(("SSL-{split} + MLP-BF",), "ssl_{split}_then_balanced_focal", (51.73,)),
        )),
    "table5": ResultTable(
        "Table 5: Results on the {split} split using {model} (top-1 video accuracy, %).",
        ("Pretraining",), ("ucf101", "hmdb51"), (
            Row(("None",), "scratch", (44.81, 18.24)),
            Row(("SSL-{split}",), "ssl_{split}", (61.7, 29.15)),
        )),
}


def top1_percent(result: Path) -> float:
    try:
        return json.loads(Path(result).read_text())["val_top1"] * 100
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{result}: no fine-tuning result ({type(error).__name__}: {error})") from None


def build_table(name: str, results: dict[tuple[str, str], Path], model: str, split: str, scale: str, outputs: dict) -> pd.DataFrame:
    """`results`: (downstream set, pretraining name) -> result.json of every run in TABLES[name].runs(split)."""
    table = TABLES[name]
    missing = [run for run in table.runs(split) if run not in results]
    if missing:
        raise ValueError(f"{name}: no result for {', '.join('/'.join(run) for run in missing)}")
    rows = []
    for row in table.rows:
        line = {column: label.format(split=split) for column, label in zip(table.label_columns, row.labels)}
        init = row.init.format(split=split)
        for dataset, paper in zip(table.datasets, row.paper):
            line[f"Paper ({DATASET_NAMES[dataset]})"] = paper
        for dataset in table.datasets:
            line[f"Ours ({DATASET_NAMES[dataset]})"] = f"{top1_percent(results[(dataset, init)]):.2f}"
        rows.append(line)
    frame = pd.DataFrame(rows)
    write_paper_table(frame, outputs["csv"], outputs["md"], outputs["tex"], table.title.format(split=split, model=MODEL_NAMES[model]), scale)
    return frame
