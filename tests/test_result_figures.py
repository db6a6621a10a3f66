"""Result figures (noisyactions.training.result_figures): what is drawn is exactly what the runs wrote,
each paper number sits on its own cell, and the module stays importable without matplotlib."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from noisyactions.claims import mean_ci95
from noisyactions.training.result_figures import dodge_offsets, result_figure
from noisyactions.training.result_tables import TABLES, result_path, table_spec

MODEL, SPLIT, SCALE = "r3d", "25k", "embedded synthetic world"
PNG_MAGIC, PDF_MAGIC = b"\x89PNG\r\n\x1a\n", b"%PDF-"


def write_runs(root: Path, runs: list[tuple[str, str]], seeds: list[int]) -> tuple[dict, dict]:
    """A result.json per run and seed with a top-1 unique to both, so a value read from the wrong file shows.
    Returns (Runs as result_figure takes them, {(run, seed): the top-1 written})."""
    results, written = {}, {}
    for index, run in enumerate(runs):
        for seed in seeds:
            top1 = round(0.20 + 0.05 * index + 0.003 * seed, 4)
            path = root / result_path(MODEL, seed, *run)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"val_top1": top1}))
            results.setdefault(run, {})[seed] = path
            written[(run, seed)] = top1
    return results, written


def outputs(root: Path) -> dict:
    return {"png": root / "figure.png", "pdf": root / "figure.pdf"}


def assert_figure_files(files: dict) -> None:
    assert Path(files["png"]).read_bytes().startswith(PNG_MAGIC)
    assert Path(files["pdf"]).read_bytes().startswith(PDF_MAGIC)


def assert_paper_values(frame, expected: dict) -> None:
    """expected: (row, column) -> the paper's number, or None where the paper has no cell."""
    for (row, column), paper in expected.items():
        values = frame.loc[(frame["row"] == row) & (frame["column"] == column), "paper"]
        assert len(values) > 0, (row, column)
        assert all(math.isnan(value) for value in values) if paper is None else list(values) == [paper] * len(values), (row, column)


def test_table5_draws_every_repeat_of_every_cell(tmp_path):
    table, seeds = TABLES["table5"], [0, 1, 2]
    results, written = write_runs(tmp_path, table.runs(SPLIT), seeds)
    files = outputs(tmp_path / "figures")
    frame = result_figure(table, results, MODEL, SPLIT, SCALE, files)

    assert list(frame.columns) == ["row", "column", "seed", "top1", "paper"]
    assert list(dict.fromkeys(frame["row"])) == ["None", "SSL-25k"]
    assert list(dict.fromkeys(frame["column"])) == ["UCF101", "HMDB51"]
    cells = {("None", "UCF101"): ("ucf101", "scratch"), ("None", "HMDB51"): ("hmdb51", "scratch"),
             ("SSL-25k", "UCF101"): ("ucf101", "ssl_25k"), ("SSL-25k", "HMDB51"): ("hmdb51", "ssl_25k")}
    expected = sorted((row, column, seed, written[(run, seed)] * 100) for (row, column), run in cells.items() for seed in seeds)
    assert sorted(frame[["row", "column", "seed", "top1"]].itertuples(index=False, name=None)) == expected
    assert_paper_values(frame, {("None", "UCF101"): 44.81, ("None", "HMDB51"): 18.24,
                                ("SSL-25k", "UCF101"): 61.7, ("SSL-25k", "HMDB51"): 29.15})
    assert_figure_files(files)


def test_table3_six_rows_one_repeat(tmp_path):
    table = TABLES["table3"]
    results, written = write_runs(tmp_path, table.runs(SPLIT), [7])
    files = outputs(tmp_path)
    frame = result_figure(table, results, MODEL, SPLIT, SCALE, files)

    rows = ["None, -", "Single Label, CCE", "Single Label, CCE-Mask", "Multi Label, BCELoss", "Multi Label, Focal", "Multi Label, Balanced-Focal"]
    inits = ["scratch", "25k_cce", "25k_cce_mask", "25k_bce", "25k_focal", "25k_balanced_focal"]
    assert list(frame["row"]) == rows
    assert set(frame["column"]) == {"UCF101"} and set(frame["seed"]) == {7}
    assert list(frame["top1"]) == [written[(("ucf101", init), 7)] * 100 for init in inits]
    assert list(frame["paper"]) == [44.54, 39.78, 40.73, 44.77, 45.04, 45.38]
    assert_figure_files(files)


def test_a_cell_the_paper_lacks_has_no_paper_value(tmp_path):
    table = table_spec("table6", {"mode": "per_class_uniform", "rates": [0.4, 0.2]})
    results, _ = write_runs(tmp_path, table.runs(SPLIT), [0, 1])
    frame = result_figure(table, results, MODEL, SPLIT, SCALE, outputs(tmp_path))

    assert_paper_values(frame, {("Asymmetric 40%", "W/o Pretraining"): 29.32, ("Asymmetric 40%", "With Pretraining"): 45.49,
                                ("Asymmetric 20%", "W/o Pretraining"): None, ("Asymmetric 20%", "With Pretraining"): None})


def test_a_missing_run_is_named_and_nothing_is_written(tmp_path):
    table = TABLES["table5"]
    results, _ = write_runs(tmp_path, table.runs(SPLIT), [0])
    del results[("hmdb51", "ssl_25k")]
    files = outputs(tmp_path)
    with pytest.raises(ValueError, match="Table 5: no result for hmdb51/ssl_25k"):
        result_figure(table, results, MODEL, SPLIT, SCALE, files)
    assert not files["png"].exists() and not files["pdf"].exists()


def test_bootstrap_ci_of_the_mean():
    values = [40.0, 42.0, 47.0, 41.0]
    low, high = mean_ci95(values)
    assert min(values) <= low < np.mean(values) < high <= max(values)
    assert mean_ci95(values) == (low, high)  # seeded: the same figure each run
    assert mean_ci95([44.5]) == (44.5, 44.5)


def test_dodge_offsets_match_seaborn_strips():
    """The means and paper markers are placed by dodge_offsets; they must land on stripplot's own strips."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    frame = pd.DataFrame({"row": ["a", "a", "a", "b", "b", "b"], "column": ["p", "q", "r"] * 2, "top1": [1.0] * 6})
    figure, axes = plt.subplots()
    sns.stripplot(data=frame, x="row", y="top1", hue="column", dodge=True, jitter=False, ax=axes)
    drawn = sorted(x for collection in axes.collections for x, _ in collection.get_offsets())
    plt.close(figure)
    expected = sorted(row + offset for row in (0, 1) for offset in dodge_offsets(3))
    assert np.allclose(drawn, expected)
    assert np.allclose(dodge_offsets(1), [0.0])


def test_importing_the_module_imports_no_matplotlib():
    code = "import sys, noisyactions.training.result_figures; assert 'matplotlib' not in sys.modules and 'seaborn' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
