"""The paper's claims checked against repeated runs (noisyactions.claims) and a cell's repeats
summarised (noisyactions.repeats)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from noisyactions import claims as claims_module
from noisyactions.claims import (HOLDS, NOT_RESOLVED, NOT_RUN, REVERSED, Claim, Selector, check_claim, check_claims, compare_cells,
                                 load_claims, write_claims)
from noisyactions.repeats import CellSummary, format_cell, per_repeat_text, summarise

REPO = Path(__file__).resolve().parents[1]
SHIPPED_CLAIMS = REPO / "workflow" / "claims.yaml"
SPLITS = {"table3": "25k", "table4": "25k", "table5": "100k", "table6": "100k", "table7": "100k"}
SEEDS = (0, 1, 2)


def runs(*values: float, seeds=SEEDS) -> dict[int, float]:
    return dict(zip(seeds, values, strict=True))


def pair_claim(relation: str = "above", tolerance: float | None = None) -> Claim:
    return Claim(id="c", table="table4", statement="a beats b", relation=relation, a=Selector(("A",), "UCF101"),
                 b=Selector(("B",), "UCF101"), others=(), tolerance=tolerance)


def pair_cells(a: dict[int, float], b: dict[int, float]) -> dict:
    return {("table4", ("A",), "UCF101"): a, ("table4", ("B",), "UCF101"): b}


def best_claim() -> Claim:
    return Claim(id="best", table="table4", statement="A is the best", relation="best", a=Selector(("A",), "UCF101"), b=None,
                 others=(Selector(("B",), "UCF101"), Selector(("C",), "UCF101")), tolerance=None)


def best_cells(a, b, c) -> dict:
    return {("table4", (name,), "UCF101"): values for name, values in zip("ABC", (a, b, c))}


# --- pairwise verdicts --------------------------------------------------------------------------


def test_above_holds_for_a_clear_paired_gap():
    record = check_claim(pair_claim(), pair_cells(runs(50, 51, 52), runs(40, 41, 42)), SPLITS)
    assert record["verdict"] == HOLDS
    assert record["paired"] is True
    assert record["difference"] == pytest.approx(10.0)
    assert record["ci95"] == pytest.approx([10.0, 10.0])
    assert record["a"]["mean"] == pytest.approx(51.0) and record["b"]["mean"] == pytest.approx(41.0)
    assert record["n"] == "3"


def test_above_is_reversed_when_b_is_clearly_higher():
    record = check_claim(pair_claim(), pair_cells(runs(40, 41, 42), runs(50, 51, 52)), SPLITS)
    assert record["verdict"] == REVERSED
    assert record["ci95"][1] < 0


def test_overlapping_noisy_cells_are_not_resolved():
    a, b = runs(50, 40, 60, 45, seeds=(0, 1, 2, 3)), runs(48, 55, 42, 50, seeds=(0, 1, 2, 3))
    record = check_claim(pair_claim(), pair_cells(a, b), SPLITS)
    assert record["verdict"] == NOT_RESOLVED
    assert record["ci95"][0] < 0 < record["ci95"][1]


def test_a_single_repeat_never_resolves_however_far_apart():
    record = check_claim(pair_claim(), pair_cells({7: 90.0}, {7: 10.0}), SPLITS)
    assert record["verdict"] == NOT_RESOLVED
    assert record["ci95"] == pytest.approx([80.0, 80.0])
    assert "n = 1" in record["note"]


def test_a_single_repeat_on_one_side_of_an_unpaired_comparison_does_not_resolve():
    record = check_claim(pair_claim(), pair_cells(runs(90, 91, 92), {9: 10.0}), SPLITS)
    assert record["paired"] is False
    assert record["verdict"] == NOT_RESOLVED and "n = 1" in record["note"]


def test_about_equal_holds_when_the_ci_is_inside_the_tolerance():
    record = check_claim(pair_claim("about_equal", 1.0), pair_cells(runs(50.1, 50.4, 49.9), runs(50.0, 50.2, 50.0)), SPLITS)
    assert record["verdict"] == HOLDS


def test_about_equal_is_reversed_when_the_cells_clearly_differ():
    record = check_claim(pair_claim("about_equal", 1.0), pair_cells(runs(55, 56, 57), runs(50, 50.5, 51)), SPLITS)
    assert record["verdict"] == REVERSED
    below = check_claim(pair_claim("about_equal", 1.0), pair_cells(runs(50, 50.5, 51), runs(55, 56, 57)), SPLITS)
    assert below["verdict"] == REVERSED


def test_about_equal_is_not_resolved_when_the_ci_straddles_the_tolerance():
    a, b = runs(50, 52, 49, 51.5, seeds=(0, 1, 2, 3)), runs(50, 50, 50, 50, seeds=(0, 1, 2, 3))
    record = check_claim(pair_claim("about_equal", 1.0), pair_cells(a, b), SPLITS)
    assert record["ci95"][0] < 1.0 < record["ci95"][1]
    assert record["verdict"] == NOT_RESOLVED


def test_not_below_counts_a_gap_within_the_tolerance_as_at():
    slightly_below = check_claim(pair_claim("not_below", 1.0), pair_cells(runs(49.6, 50.6, 51.6), runs(50, 51, 52)), SPLITS)
    assert slightly_below["verdict"] == HOLDS
    far_below = check_claim(pair_claim("not_below", 1.0), pair_cells(runs(45, 46, 47), runs(50, 51, 52)), SPLITS)
    assert far_below["verdict"] == REVERSED
    above = check_claim(pair_claim("above"), pair_cells(runs(49.6, 50.6, 51.6), runs(50, 51, 52)), SPLITS)
    assert above["verdict"] == REVERSED  # the same cells: strictly above is not what they show


# --- paired vs unpaired -------------------------------------------------------------------------


def test_paired_differences_with_a_constant_offset_give_a_zero_width_ci():
    a = runs(30, 50, 70)
    b = {seed: value - 5 for seed, value in a.items()}
    paired = compare_cells(a, b)
    assert paired.paired and paired.ci_low == paired.ci_high == pytest.approx(5.0)


def test_the_same_values_without_shared_seeds_get_a_wide_unpaired_ci():
    a = runs(30, 50, 70)
    b = runs(25, 45, 65, seeds=(10, 11, 12))
    unpaired = compare_cells(a, b)
    assert not unpaired.paired
    assert unpaired.difference == pytest.approx(5.0)
    assert unpaired.ci_high - unpaired.ci_low > 20
    assert unpaired.ci_low < 0 < unpaired.ci_high


def test_the_bootstrap_is_deterministic_and_follows_its_seed():
    seeds = tuple(range(10))
    a = runs(*(50 + 3.7 * (seed % 4) + 0.3 * seed for seed in seeds), seeds=seeds)
    b = runs(*(48 + 2.9 * (seed % 3) for seed in seeds), seeds=seeds)
    assert compare_cells(a, b, rng_seed=3) == compare_cells(dict(reversed(a.items())), b, rng_seed=3)
    assert compare_cells(a, b, rng_seed=3) != compare_cells(a, b, rng_seed=4)


# --- best ---------------------------------------------------------------------------------------


def test_best_holds_when_a_is_above_every_other_cell():
    record = check_claim(best_claim(), best_cells(runs(60, 61, 62), runs(50, 51, 52), runs(55, 56, 57)), SPLITS)
    assert record["verdict"] == HOLDS
    assert [c["verdict"] for c in record["comparisons"]] == [HOLDS, HOLDS]
    assert record["b"]["row"] == ["C"]  # the closest rival is the one shown


def test_best_is_reversed_when_another_cell_is_above_a():
    record = check_claim(best_claim(), best_cells(runs(60, 61, 62), runs(50, 51, 52), runs(70, 71, 72)), SPLITS)
    assert record["verdict"] == REVERSED
    assert record["b"]["row"] == ["C"]


def test_best_is_not_resolved_when_a_rival_overlaps():
    c = runs(58, 66, 57, 63, seeds=(0, 1, 2, 3))
    a, b = runs(60, 61, 62, 63, seeds=(0, 1, 2, 3)), runs(50, 51, 52, 53, seeds=(0, 1, 2, 3))
    record = check_claim(best_claim(), best_cells(a, b, c), SPLITS)
    assert [comparison["verdict"] for comparison in record["comparisons"]] == [HOLDS, NOT_RESOLVED]
    assert record["verdict"] == NOT_RESOLVED


# --- cells that were not run, and naming rows ---------------------------------------------------


def test_a_missing_cell_is_not_run_and_named():
    cells = {("table4", ("A",), "UCF101"): runs(50, 51, 52)}
    record = check_claim(pair_claim(), cells, SPLITS)
    assert record["verdict"] == NOT_RUN
    assert "table4 / B / UCF101" in record["note"] and "table4 / A / UCF101" not in record["note"]


def test_a_table_without_a_split_is_not_run():
    claim = Claim(id="ssl", table="table5", statement="s", relation="above", a=Selector(("SSL-{split}",), "UCF101"),
                  b=Selector(("None",), "UCF101"), others=(), tolerance=None)
    record = check_claim(claim, {("table5", ("None",), "UCF101"): runs(1, 2, 3)}, {})
    assert record["verdict"] == NOT_RUN and "SSL-{split}" in record["note"]


def test_split_templates_and_label_prefixes_pick_the_right_rows():
    claim = Claim(id="t3", table="table3", statement="s", relation="above", a=Selector(("Single Label", "CCE-Mask"), "UCF101"),
                  b=Selector(("Single Label", "CCE"), "UCF101"), others=(), tolerance=None)
    cells = {("table3", ("Single Label", "CCE"), "UCF101"): runs(40, 41, 42),
             ("table3", ("Single Label", "CCE-Mask"), "UCF101"): runs(45, 46, 47)}
    assert check_claim(claim, cells, SPLITS)["verdict"] == HOLDS
    ssl = Claim(id="t4", table="table4", statement="s", relation="above", a=Selector(("SSL-{split}",), "UCF101"),
                b=Selector(("None",), "UCF101"), others=(), tolerance=None)
    ssl_cells = {("table4", ("SSL-25k",), "UCF101"): runs(50, 51, 52), ("table4", ("SSL-25k + MLP-BF",), "UCF101"): runs(1, 2, 3),
                 ("table4", ("None",), "UCF101"): runs(40, 41, 42)}
    record = check_claim(ssl, ssl_cells, SPLITS)
    assert record["verdict"] == HOLDS and record["a"]["row"] == ["SSL-25k"]


def test_a_row_named_too_briefly_is_an_error_naming_the_claim():
    claim = Claim(id="vague", table="table3", statement="s", relation="above", a=Selector(("Single Label",), "UCF101"),
                  b=Selector(("None",), "UCF101"), others=(), tolerance=None)
    cells = {("table3", ("Single Label", "CCE"), "UCF101"): runs(1, 2, 3),
             ("table3", ("Single Label", "CCE-Mask"), "UCF101"): runs(1, 2, 3),
             ("table3", ("None", "-"), "UCF101"): runs(1, 2, 3)}
    with pytest.raises(ValueError, match="'vague'.*several rows"):
        check_claim(claim, cells, SPLITS)


# --- writing ------------------------------------------------------------------------------------


def test_write_claims_names_the_scale_counts_verdicts_and_round_trips_json(tmp_path):
    claims = [pair_claim(), Claim(id="gone", table="table7", statement="s", relation="above", a=Selector(("X",), "W/o Pretraining"),
                                  b=Selector(("X",), "With Pretraining"), others=(), tolerance=None)]
    records = check_claims(claims, pair_cells(runs(50, 51, 52), runs(40, 41, 42)), SPLITS)
    write_claims(records, {kind: tmp_path / f"claims.{kind}" for kind in ("md", "json", "html")}, "embedded synthetic world")
    markdown = (tmp_path / "claims.md").read_text()
    header = markdown.splitlines()[0]
    assert "embedded synthetic world" in header
    assert "1 holds" in header and "1 not run" in header and "0 reversed" in header
    assert "+10.00 [+10.00, +10.00]" in markdown
    assert json.loads((tmp_path / "claims.json").read_text()) == records
    page = (tmp_path / "claims.html").read_text()
    assert "<table>" in page and "embedded synthetic world" in page and page.count("<tr>") == 1 + len(records)
    assert check_claims(claims, pair_cells(runs(50, 51, 52), runs(40, 41, 42)), SPLITS) == records


# --- loading ------------------------------------------------------------------------------------


GOOD_ENTRY = """- id: first
  table: table4
  statement: "SSL beats scratch"
  relation: above
  a: {row: "SSL-{split}", column: UCF101}
  b: {row: "None", column: UCF101}
"""


@pytest.mark.parametrize("entry, message", [
    ("- id: bad\n  table: table4\n  statement: s\n  relation: beats\n  a: {row: A, column: UCF101}\n  b: {row: B, column: UCF101}\n",
     "unknown relation 'beats'"),
    ("- id: bad\n  table: table4\n  statement: s\n  relation: above\n  a: {row: A, column: UCF101}\n", "missing key.*b"),
    ("- id: bad\n  table: table9\n  statement: s\n  relation: above\n  a: {row: A, column: UCF101}\n  b: {row: B, column: UCF101}\n",
     "unknown table 'table9'"),
    ("- id: bad\n  table: table4\n  statement: s\n  relation: about_equal\n  a: {row: A, column: UCF101}\n  b: {row: B, column: UCF101}\n",
     "missing key.*tolerance"),
    ("- id: bad\n  table: table4\n  statement: s\n  relation: above\n  a: {row: A}\n  b: {row: B, column: UCF101}\n", "'a'.*'column'"),
    ("- id: bad\n  table: table4\n  statement: s\n  relation: best\n  a: {row: A, column: UCF101}\n  others: []\n", "'others'"),
])
def test_load_claims_errors_name_the_file_line_and_claim(tmp_path, entry, message):
    path = tmp_path / "claims.yaml"
    path.write_text(GOOD_ENTRY + entry)
    with pytest.raises(ValueError, match=message) as error:
        load_claims(path)
    assert f"{path}:7: claim 1 ('bad')" in str(error.value)


def test_load_claims_rejects_duplicate_ids_and_non_lists(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(GOOD_ENTRY + GOOD_ENTRY)
    with pytest.raises(ValueError, match=f"{path}:7: claim 1 \\('first'\\): duplicate id"):
        load_claims(path)
    path.write_text("first: {}\n")
    with pytest.raises(ValueError, match=f"{path}: the claims must be a YAML list"):
        load_claims(path)


def test_load_claims_reads_a_good_entry(tmp_path):
    path = tmp_path / "claims.yaml"
    path.write_text(GOOD_ENTRY)
    assert load_claims(path) == [Claim(id="first", table="table4", statement="SSL beats scratch", relation="above",
                                       a=Selector(("SSL-{split}",), "UCF101"), b=Selector(("None",), "UCF101"), others=(), tolerance=None)]


# --- the shipped claims -------------------------------------------------------------------------


def shipped_specs() -> dict:
    from noisyactions.training.result_tables import TABLES, table_spec
    return {**TABLES, "table6": table_spec("table6", {"rates": [0.4, 0.8], "mode": "per_class_uniform", "seed": 0})}


def selectors(claim: Claim) -> list[Selector]:
    return [claim.a, *([claim.b] if claim.b else claim.others)]


def matching_rows(spec, selector: Selector, split: str) -> list:
    wanted = tuple(label.format(split=split) for label in selector.row)
    return [row for row in spec.rows if tuple(label.format(split=split) for label in row.labels)[:len(wanted)] == wanted]


def test_the_claim_tables_are_the_result_tables():
    from noisyactions.training.result_tables import RESULT_TABLES
    assert claims_module.CLAIM_TABLES == RESULT_TABLES


def test_every_shipped_selector_names_exactly_one_row_and_an_existing_column():
    claims = load_claims(SHIPPED_CLAIMS)
    specs = shipped_specs()
    assert {claim.table for claim in claims} == set(specs)
    for claim in claims:
        spec = specs[claim.table]
        for selector in selectors(claim):
            assert selector.column in {column.name for column in spec.columns}, (claim.id, selector)
            for split in ("25k", "100k"):
                assert len(matching_rows(spec, selector, split)) == 1, (claim.id, selector, split)


def test_the_shipped_claims_cover_the_sec6_comparisons():
    claims = {claim.id: claim for claim in load_claims(SHIPPED_CLAIMS)}
    relations = {claim.relation for claim in claims.values()}
    assert relations == {"above", "not_below", "about_equal", "best"}
    assert claims["t3_balanced_focal_best"].relation == "best" and len(claims["t3_balanced_focal_best"].others) == 5
    assert claims["t4_ssl_kinetics_best"].relation == "best" and len(claims["t4_ssl_kinetics_best"].others) == 4
    per_table = {table: sum(claim.table == table for claim in claims.values()) for table in claims_module.CLAIM_TABLES}
    assert per_table == {"table3": 7, "table4": 8, "table5": 2, "table6": 2, "table7": 2}  # Table 4: 7 of the paper's, 1 control
    controls = [claim for claim in claims.values() if "_control_" in claim.id]
    assert len(controls) == 1 and all(claim.statement.startswith("(our control, not the paper's)") for claim in controls)


def test_the_shipped_claims_hold_on_the_papers_own_numbers():
    """The paper's numbers, as three paired repeats offset by a constant, must satisfy every claim as the
    paper states it: a claim wired to the wrong cell or relation shows up here."""
    specs = shipped_specs()
    cells = {}
    for name, spec in specs.items():
        split = SPLITS[name]
        for row in spec.rows:
            for column, paper in zip(spec.columns, row.paper):
                if paper is not None:  # our control rows have no paper number
                    cells[(name, tuple(label.format(split=split) for label in row.labels), column.name)] = runs(paper - 0.1, paper, paper + 0.1)
    records = check_claims(load_claims(SHIPPED_CLAIMS), cells, SPLITS)
    expected = {record["id"]: NOT_RUN if "_control_" in record["id"] else HOLDS for record in records}
    assert {record["id"]: record["verdict"] for record in records} == expected


# --- repeats ------------------------------------------------------------------------------------


def test_summarise_uses_the_sample_std():
    summary = summarise([1.0, 2.0, 3.0, 4.0])
    assert summary == CellSummary(mean=2.5, std=pytest.approx(math.sqrt(5 / 3)), n=4, values=(1.0, 2.0, 3.0, 4.0))
    assert summarise([44.54]) == CellSummary(mean=44.54, std=0.0, n=1, values=(44.54,))


def test_format_cell_shows_spread_and_n_only_with_repeats():
    assert format_cell(CellSummary(mean=44.54, std=1.234, n=3, values=(1.0, 2.0, 3.0))) == "44.54 ± 1.23 (n=3)"
    assert format_cell(summarise([44.54])) == "44.54"
    assert format_cell(summarise([10.0, 12.0]), digits=1) == "11.0 ± 1.4 (n=2)"


def test_per_repeat_text_and_empty_cells():
    assert per_repeat_text([44.54, 45.1, 43.9]) == "44.54;45.10;43.90"
    with pytest.raises(ValueError, match="no repeats"):
        summarise([])
    with pytest.raises(ValueError, match="no repeats"):
        per_repeat_text([])
