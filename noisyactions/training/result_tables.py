"""Tables 3-7: which fine-tuning runs fill each cell, the paper's numbers, and the table written from
our results beside them.

A cell is one fine-tuning run: a downstream set and a pretraining (an inits.py name). A row fixes one
of the two and its column the other: Tables 3-5 vary the pretraining by row and the downstream set by
column, Tables 6-7 the noisy or corrupted copy of UCF101 by row and the pretraining by column. "{split}"
stands for the table's split in training.tables; the caption names the model and split that produced
our column.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from noisyactions.repeats import format_cell, per_repeat_text, summarise
from noisyactions.tables import write_paper_table
from noisyactions.training.model_names import MODEL_NAMES


@dataclass(frozen=True)
class Row:
    labels: tuple[str, ...]  # the row's label columns; "{split}" is the table's split
    paper: tuple[float | None, ...]  # the paper's top-1 (%), one per column (None: the paper has no such cell)
    dataset: str | None = None  # the downstream set of the row's runs, when rows vary it
    init: str | None = None  # their pretraining, when rows vary it


@dataclass(frozen=True)
class Column:
    name: str
    dataset: str | None = None
    init: str | None = None


@dataclass(frozen=True)
class ResultTable:
    title: str  # "{model}" and "{split}" are the table's
    label_columns: tuple[str, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    decodable: bool = False  # a column of the share of test videos that gave clips (the corruption table's)

    def cell(self, row: Row, column: Column, split: str) -> tuple[str, str]:
        """(downstream set, pretraining name) of the run behind a cell."""
        return (row.dataset or column.dataset).format(split=split), (row.init or column.init).format(split=split)

    def runs(self, split: str) -> list[tuple[str, str]]:
        """(downstream set, pretraining name) of every fine-tuning the table needs."""
        return [self.cell(row, column, split) for row in self.rows for column in self.columns]


UCF101, HMDB51 = Column("UCF101", dataset="ucf101"), Column("HMDB51", dataset="hmdb51")
WITHOUT, WITH = Column("W/o Pretraining", init="scratch"), Column("With Pretraining", init="ssl_{split}")
TABLES = {
    "table3": ResultTable(
        "Table 3: Loss functions during pretraining on the {split} split with {model}, fine-tuned on UCF101 (top-1 video accuracy, %).",
        ("Pretraining", "Loss Function"), (UCF101,), (
            Row(("None", "-"), (44.54,), init="scratch"),
            Row(("Single Label", "CCE"), (39.78,), init="{split}_cce"),
            Row(("Single Label", "CCE-Mask"), (40.73,), init="{split}_cce_mask"),
            Row(("Multi Label", "BCELoss"), (44.77,), init="{split}_bce"),
            Row(("Multi Label", "Focal"), (45.04,), init="{split}_focal"),
            Row(("Multi Label", "Balanced-Focal"), (45.38,), init="{split}_balanced_focal"),
        )),
    "table4": ResultTable(
        "Table 4: Pretraining strategies and their combinations with the {split} split and {model}, fine-tuned on UCF101 "
        "(top-1 video accuracy, %). MLP-BF: multi-label pretraining with Balanced-Focal loss; SSL-Kinetics: PCL on the "
        "curated set (the paper: 26,392 Kinetics-400 videos). None on residual clips: our control, not in the paper: "
        "from scratch on frame differences, the input every SSL row's model sees, so SSL's gain over it is its weights'.",
        ("Pretraining strategy",), (UCF101,), (
            Row(("None",), (44.54,), init="scratch"),
            Row(("None on residual clips",), (None,), init="scratch_residual"),
            Row(("SSL-UCF",), (49.17,), init="ssl_ucf101"),
            Row(("SSL-Kinetics",), (53.21,), init="ssl_curated"),
            Row(("SSL-{split}",), (51.57,), init="ssl_{split}"),
            Row(("SSL-{split} + MLP-BF",), (51.73,), init="ssl_{split}_then_balanced_focal"),
        )),
    "table5": ResultTable(
        "Table 5: Results on the {split} split using {model} (top-1 video accuracy, %).",
        ("Pretraining",), (UCF101, HMDB51), (
            Row(("None",), (44.81, 18.24), init="scratch"),
            Row(("SSL-{split}",), (61.7, 29.15), init="ssl_{split}"),
        )),
    "table7": ResultTable(
        "Table 7: Video corruption in UCF101's files, {model} fine-tuned from scratch and from SSL on the {split} split "
        "(top-1 video accuracy over the whole test list, %; a video that no longer decodes counts as wrong).",
        ("Corruption",), (WITHOUT, WITH), (
            Row(("Random Corruption",), (35.16, 45.28), dataset="ucf101_random"),
            Row(("Contiguous Corruption",), (42.69, 56.46), dataset="ucf101_contiguous"),
        ), decodable=True),
}
PAPER_LABEL_NOISE = {40: (29.32, 45.49), 80: (12.74, 21.91)}  # Table 6: noise % -> (without, with pretraining)
NOISE_NAMES = {"per_class_uniform": "Asymmetric", "class_dependent": "Class-dependent"}  # the paper calls its noise asymmetric


def noise_percent(rate: float) -> int:
    """The whole percent that names a noise rate's copy of UCF101 (config.py keeps them distinct)."""
    return round(rate * 100)


def noisy_set(rate: float) -> str:
    """The name of UCF101 with `rate` of each class's training labels flipped, as a downstream set."""
    return f"ucf101_noise{noise_percent(rate)}"


def table_spec(name: str, label_noise: dict | None = None) -> ResultTable:
    """A table's cells; Table 6's rows are the configured noise rates (robustness.label_noise), with the
    paper's cells where it has them."""
    if name != "table6":
        return TABLES[name]
    def paper(rate: float) -> tuple[float | None, float | None]:
        whole = math.isclose(rate * 100, noise_percent(rate))
        return PAPER_LABEL_NOISE.get(noise_percent(rate), (None, None)) if whole and label_noise["mode"] == "per_class_uniform" else (None, None)

    rows = tuple(Row((f"{NOISE_NAMES[label_noise['mode']]} {rate * 100:g}%",), paper(rate), dataset=noisy_set(rate)) for rate in label_noise["rates"])
    return ResultTable("Table 6: Synthetic label noise in UCF101's training labels, {model} fine-tuned from scratch and from SSL "
                       "on the {split} split (top-1 video accuracy, %).", ("Label Noise Percentage",), (WITHOUT, WITH), rows)


def result_path(model: str, seed: int, dataset: str, init: str) -> str:
    """Where a fine-tuning run writes its result (the workflow's rule and every reader use this)."""
    return f"results/{model}/seed{seed}/finetune/{dataset}/{init}/result.json"


def run_of(path: str | Path) -> tuple[tuple[str, str], int]:
    """((downstream set, pretraining name), seed) of a result_path."""
    parts = Path(path).parts
    return (parts[-3], parts[-2]), int(parts[-5].removeprefix("seed"))


Runs = dict[tuple[str, str], dict[int, Path]]  # (downstream set, pretraining name) -> {seed: result.json}


def collect_runs(paths: list) -> Runs:
    """Result files (result_path) grouped by run, each with its repeats by seed."""
    runs: dict[tuple[str, str], dict[int, Path]] = {}
    for path in paths:
        run, seed = run_of(path)
        runs.setdefault(run, {})[seed] = Path(path)
    return runs


def table_cells(name: str, table: ResultTable, model: str, split: str, seeds: list[int]) -> dict[tuple[str, tuple[str, ...], str], dict[int, float]]:
    """Every cell of a table as (table, row labels, column) -> {seed: our top-1 %}, read from the result
    files of its runs that exist: what the claims are checked on (noisyactions.claims)."""
    cells = {}
    for row in table.rows:
        labels = tuple(label.format(split=split) for label in row.labels)
        for column in table.columns:
            paths = {seed: Path(result_path(model, seed, *table.cell(row, column, split))) for seed in seeds}
            runs = {seed: top1_percent(path) for seed, path in paths.items() if path.exists()}
            if runs:
                cells[(name, labels, column.name)] = runs
    return cells


RESULT_TABLES = ("table3", "table4", "table5", "table6", "table7")


def _result_value(result: Path, key: str) -> float:
    try:
        return json.loads(Path(result).read_text())[key]
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"{result}: no fine-tuning result ({type(error).__name__}: {error})") from None


def top1_percent(result: Path) -> float:
    return _result_value(result, "val_top1") * 100


def decoded_percent(result: Path) -> float:
    """The share of the test list whose videos gave clips (the rest were counted wrong)."""
    return _result_value(result, "test_decodable_fraction") * 100


def check_runs(table: ResultTable, results: Runs, split: str) -> None:
    """Every run the table needs has at least one repeat; else an error naming the ones missing."""
    missing = [run for run in table.runs(split) if not results.get(run)]
    if missing:
        raise ValueError(f"{table.title.split(':')[0]}: no result for {', '.join('/'.join(run) for run in missing)}")


def build_table(table: ResultTable, results: Runs, model: str, split: str, stamp: str, outputs: dict) -> pd.DataFrame:
    """`results`: every run of table.runs(split), each with its repeats; `stamp`: the caption's provenance
    line. The Markdown and LaTeX give each cell as mean ± std (n); the CSV gives the mean, std, n and
    every repeat's number (seed order)."""
    check_runs(table, results, split)
    shown, full = [], []
    for row in table.rows:
        labels = {column: label.format(split=split) for column, label in zip(table.label_columns, row.labels)}
        paper = {f"Paper ({column.name})": "" if value is None or math.isnan(value) else value for column, value in zip(table.columns, row.paper)}
        line, record = {**labels, **paper}, {**labels, **paper}
        for column in table.columns:
            runs = results[table.cell(row, column, split)]
            summary = summarise([top1_percent(runs[seed]) for seed in sorted(runs)])
            line[f"Ours ({column.name})"] = format_cell(summary)
            record.update({f"Ours ({column.name})": f"{summary.mean:.2f}", f"Ours ({column.name}) std": f"{summary.std:.2f}",
                           f"Ours ({column.name}) n": summary.n, f"Ours ({column.name}) per repeat": per_repeat_text(summary.values)})
        if table.decodable:  # every column of a row tests the same files
            runs = results[table.cell(row, table.columns[0], split)]
            decoded = f"{summarise([decoded_percent(runs[seed]) for seed in sorted(runs)]).mean:.1f}"
            line["Ours: test videos decoded (%)"] = record["Ours: test videos decoded (%)"] = decoded
        shown.append(line)
        full.append(record)
    frame = pd.DataFrame(shown)
    write_paper_table(frame, outputs, table.title.format(split=split, model=MODEL_NAMES[model]), stamp, csv_frame=pd.DataFrame(full))
    return frame
