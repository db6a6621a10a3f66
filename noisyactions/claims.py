"""The paper's Sec. 6 comparisons (workflow/claims.yaml), checked against our repeated runs.

A table of means cannot say whether "SSL-25k beats SSL-UCF" holds here or is seed noise: every cell is
run with the same seeds, so each claim gets the difference of its two cells with a bootstrap 95% CI and
a verdict read off the CI: "holds", "reversed", or "not resolved at this scale" when the CI straddles
the claim's boundary. Cells that share their seeds are compared seed by seed (paired: the seed's own
luck, e.g. its data order, cancels); otherwise the two means are resampled independently. One repeat
has no spread, so it never resolves a claim, however far apart the two numbers are. A cell whose runs
do not exist yet gives "not run", so a partial workflow still reports every claim.

Verdict rules (lo, hi: the 95% CI of a - b, in top-1 points; tol: the claim's tolerance):
  above        holds: lo > 0            reversed: hi < 0
  not_below    holds: lo > -tol         reversed: hi < -tol   ("at or above": within tol counts as at)
  about_equal  holds: -tol <= lo and hi <= tol                reversed: hi < -tol or lo > tol
  best         holds: every pairwise `above` against `others` holds; reversed: one of them is reversed
Anything else is "not resolved at this scale".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from noisyactions.atomic import atomic_write_text

CellKey = tuple[str, tuple[str, ...], str]  # (table, row labels with the split filled in, column name)
CellRuns = dict[CellKey, dict[int, float]]  # -> {seed: top-1 %}

# The tables claims may name: result_tables.RESULT_TABLES (tests keep the two equal); not imported, so
# checking claims needs no torch.
CLAIM_TABLES = ("table3", "table4", "table5", "table6", "table7")
RELATIONS = ("above", "not_below", "about_equal", "best")
NEEDS_TOLERANCE = ("not_below", "about_equal")

HOLDS, REVERSED, NOT_RESOLVED, NOT_RUN = "holds", "reversed", "not resolved at this scale", "not run"
VERDICTS = (HOLDS, REVERSED, NOT_RESOLVED, NOT_RUN)
SINGLE_REPEAT_NOTE = "n = 1: a single repeat has no spread, so no difference can be told from seed noise; run more repeats"


@dataclass(frozen=True)
class Selector:
    row: tuple[str, ...]  # the row's first labels; "{split}" is the table's split
    column: str


@dataclass(frozen=True)
class Claim:
    id: str
    table: str
    statement: str
    relation: str
    a: Selector
    b: Selector | None  # None for `best`
    others: tuple[Selector, ...]  # only for `best`
    tolerance: float | None  # top-1 points; only for not_below and about_equal


# ---------------------------------------------------------------------------------------------------
# Loading


def _entry_lines(text: str) -> list[int]:
    """1-based line of each top-level entry, so an error points at the claim in the file."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(root, yaml.SequenceNode):
        return [item.start_mark.line + 1 for item in root.value]
    return []


def _read_entries(path: Path) -> tuple[list, list[int]]:
    try:
        text = Path(path).read_text()
        entries = yaml.safe_load(text)
        lines = _entry_lines(text)
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the claims ({type(error).__name__}: {error})") from None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: the claims must be a YAML list of entries, found {type(entries).__name__}")
    return entries, lines


def _selector(value, where: str, key: str) -> Selector:
    """A row named by its first label alone is ambiguous in Table 3, hence the list form."""
    if not isinstance(value, dict) or set(value) != {"row", "column"}:
        raise ValueError(f"{where}: '{key}' must be a mapping with exactly 'row' and 'column', found {value!r}")
    row, column = value["row"], value["column"]
    labels = (row,) if isinstance(row, str) else tuple(row) if isinstance(row, list) else ()
    if not labels or not all(isinstance(label, str) and label for label in labels):
        raise ValueError(f"{where}: '{key}.row' must be a label or a non-empty list of labels, found {row!r}")
    if not isinstance(column, str) or not column:
        raise ValueError(f"{where}: '{key}.column' must be a column name, found {column!r}")
    return Selector(row=labels, column=column)


def _required_keys(relation: str) -> set[str]:
    keys = {"id", "table", "statement", "relation", "a"}
    keys |= {"others"} if relation == "best" else {"b"}
    return keys | ({"tolerance"} if relation in NEEDS_TOLERANCE else set())


def _check_keys(entry: dict, where: str) -> None:
    """Unknown keys are errors: a misspelt 'tolerance' would otherwise silently drop the claim's tolerance."""
    relation = entry.get("relation")
    if relation not in RELATIONS:
        raise ValueError(f"{where}: unknown relation {relation!r} (one of {', '.join(RELATIONS)})")
    required = _required_keys(relation)
    missing, unknown = sorted(required - set(entry)), sorted(set(entry) - required)
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)} for relation {relation!r}")
    if unknown:
        raise ValueError(f"{where}: unexpected key(s) {', '.join(unknown)} for relation {relation!r}")


def _tolerance(entry: dict, where: str) -> float | None:
    if entry["relation"] not in NEEDS_TOLERANCE:
        return None
    tolerance = entry["tolerance"]
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance > 0:
        raise ValueError(f"{where}: 'tolerance' must be a positive number of top-1 points, found {tolerance!r}")
    return float(tolerance)


def _others(entry: dict, where: str) -> tuple[Selector, ...]:
    if entry["relation"] != "best":
        return ()
    others = entry["others"]
    if not isinstance(others, list) or not others:
        raise ValueError(f"{where}: 'others' must be a non-empty list of cells, found {others!r}")
    return tuple(_selector(other, where, f"others[{index}]") for index, other in enumerate(others))


def _claim(entry, where: str) -> Claim:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: a claim must be a mapping, found {entry!r}")
    _check_keys(entry, where)
    if entry["table"] not in CLAIM_TABLES:
        raise ValueError(f"{where}: unknown table {entry['table']!r} (one of {', '.join(CLAIM_TABLES)})")
    for key in ("id", "statement"):
        if not isinstance(entry[key], str) or not entry[key].strip():
            raise ValueError(f"{where}: '{key}' must be non-empty text, found {entry[key]!r}")
    return Claim(id=entry["id"], table=entry["table"], statement=entry["statement"], relation=entry["relation"],
                 a=_selector(entry["a"], where, "a"), b=_selector(entry["b"], where, "b") if "b" in entry else None,
                 others=_others(entry, where), tolerance=_tolerance(entry, where))


def _where(path: Path, index: int, entry, lines: list[int]) -> str:
    line = f":{lines[index]}" if index < len(lines) else ""
    name = f" ({entry['id']!r})" if isinstance(entry, dict) and "id" in entry else ""
    return f"{path}{line}: claim {index}{name}"


def load_claims(path: Path) -> list[Claim]:
    entries, lines = _read_entries(path)
    claims, seen = [], {}
    for index, entry in enumerate(entries):
        where = _where(path, index, entry, lines)
        claim = _claim(entry, where)
        if claim.id in seen:
            raise ValueError(f"{where}: duplicate id {claim.id!r} (also claim {seen[claim.id]})")
        seen[claim.id] = index
        claims.append(claim)
    return claims


# ---------------------------------------------------------------------------------------------------
# Checking


@dataclass(frozen=True)
class Difference:
    mean_a: float
    mean_b: float
    difference: float  # mean_a - mean_b
    ci_low: float
    ci_high: float
    paired: bool
    n_a: int
    n_b: int

    @property
    def single_repeat(self) -> bool:
        return min(self.n_a, self.n_b) < 2

    @property
    def n_text(self) -> str:
        """Paired runs count seeds once; unpaired ones say each side's n."""
        return str(self.n_a) if self.paired else f"{self.n_a} vs {self.n_b}"


def _percentile_ci(resampled_means: np.ndarray) -> tuple[float, float]:
    low, high = np.percentile(resampled_means, [2.5, 97.5])
    return float(low), float(high)


def _resampled_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """One bootstrap mean per row of a (resamples, n) index draw: no Python loop over resamples."""
    draws = rng.integers(0, len(values), size=(resamples, len(values)))
    return values[draws].mean(axis=1)


def mean_ci95(values, rng_seed: int = 0, resamples: int = 10_000) -> tuple[float, float]:
    """The 95% percentile-bootstrap CI of one cell's mean, as the claims resample it (figures draw it);
    one repeat has no spread: its "interval" is the value itself."""
    array = np.asarray(values, dtype=float)
    if len(array) < 2:
        return float(array.mean()), float(array.mean())
    return _percentile_ci(_resampled_means(array, np.random.default_rng(rng_seed), resamples))


def _in_seed_order(runs: dict[int, float]) -> np.ndarray:
    """Seed order, not insertion order: the same runs give the same bootstrap however they were gathered."""
    return np.array([runs[seed] for seed in sorted(runs)], dtype=float)


def compare_cells(a: dict[int, float], b: dict[int, float], rng_seed: int = 0, resamples: int = 10_000) -> Difference:
    """a - b with a 95% percentile-bootstrap CI. Paired when both cells ran exactly the same seeds: a
    cell with a repeat still missing falls back to unpaired rather than quietly dropping the other's runs."""
    rng = np.random.default_rng(rng_seed)
    values_a, values_b = _in_seed_order(a), _in_seed_order(b)
    paired = set(a) == set(b)
    if paired:
        differences = values_a - values_b
        low, high = _percentile_ci(_resampled_means(differences, rng, resamples))
    else:
        low, high = _percentile_ci(_resampled_means(values_a, rng, resamples) - _resampled_means(values_b, rng, resamples))
    mean_a, mean_b = float(values_a.mean()), float(values_b.mean())
    return Difference(mean_a, mean_b, mean_a - mean_b, low, high, paired, len(a), len(b))


def _threshold_verdict(low: float, high: float, threshold: float) -> str:
    return HOLDS if low > threshold else REVERSED if high < threshold else NOT_RESOLVED


def _about_equal_verdict(low: float, high: float, tolerance: float) -> str:
    if -tolerance <= low and high <= tolerance:
        return HOLDS
    return REVERSED if high < -tolerance or low > tolerance else NOT_RESOLVED


def pair_verdict(relation: str, difference: Difference, tolerance: float | None) -> str:
    """The verdict of one a-vs-b comparison; see the module's table of rules."""
    if difference.single_repeat:
        return NOT_RESOLVED
    low, high = difference.ci_low, difference.ci_high
    if relation == "above":
        return _threshold_verdict(low, high, 0.0)
    if relation == "not_below":
        return _threshold_verdict(low, high, -tolerance)
    if relation == "about_equal":
        return _about_equal_verdict(low, high, tolerance)
    raise ValueError(f"pair_verdict: relation {relation!r} is not a pairwise one (above, not_below, about_equal)")


def _fill_split(label: str, table: str, splits: dict[str, str]) -> str | None:
    """None when the label needs the table's split and none was given: the table was not run."""
    if "{split}" not in label:
        return label
    return label.replace("{split}", splits[table]) if table in splits else None


def cell_name(table: str, row: tuple[str, ...], column: str) -> str:
    return f"{table} / {', '.join(row)} / {column}"


def _find_cell(claim: Claim, selector: Selector, cells: CellRuns, splits: dict[str, str]) -> tuple[CellKey | None, str]:
    """(key of the cell's runs or None when it has none, its name). More than one row matching is the
    claims file's mistake (a row named too briefly), so it raises instead of picking one."""
    filled = tuple(_fill_split(label, claim.table, splits) for label in selector.row)
    if None in filled:
        return None, f"{cell_name(claim.table, selector.row, selector.column)} (no split given for {claim.table})"
    matches = sorted({key for key, runs in cells.items()
                      if runs and key[0] == claim.table and key[2] == selector.column and key[1][:len(filled)] == filled})
    if len(matches) > 1:
        raise ValueError(f"claim {claim.id!r}: row {list(selector.row)} matches several rows of {claim.table} "
                         f"({'; '.join(', '.join(key[1]) for key in matches)}); name it by more of its labels")
    return (matches[0] if matches else None), (cell_name(*matches[0]) if matches else cell_name(claim.table, filled, selector.column))


def _side(key: CellKey, cells: CellRuns, mean: float) -> dict:
    seeds = sorted(cells[key])
    return {"row": list(key[1]), "column": key[2], "mean": mean, "seeds": [int(seed) for seed in seeds],
            "values": [float(cells[key][seed]) for seed in seeds]}


def _pair_record(a: CellKey, b: CellKey, difference: Difference, verdict: str, cells: CellRuns) -> dict:
    return {"a": _side(a, cells, difference.mean_a), "b": _side(b, cells, difference.mean_b), "difference": difference.difference,
            "ci95": [difference.ci_low, difference.ci_high], "paired": difference.paired, "n": difference.n_text, "verdict": verdict,
            "note": SINGLE_REPEAT_NOTE if difference.single_repeat else ""}


def _claim_record(claim: Claim) -> dict:
    return {"id": claim.id, "table": claim.table, "statement": claim.statement, "relation": claim.relation, "tolerance": claim.tolerance}


def _not_run_record(claim: Claim, missing: list[str]) -> dict:
    return {**_claim_record(claim), "a": None, "b": None, "difference": None, "ci95": None, "paired": None, "n": "0",
            "verdict": NOT_RUN, "note": "no runs for " + "; ".join(missing)}


def _deciding(comparisons: list[dict], verdict: str) -> dict:
    """The comparison shown for a `best` claim: among those with the claim's verdict, the one with the
    smallest margin (the closest rival, or the one furthest above a when reversed)."""
    return min((c for c in comparisons if c["verdict"] == verdict), key=lambda c: c["difference"])


def _best_verdict(verdicts: list[str]) -> str:
    if REVERSED in verdicts:
        return REVERSED
    return HOLDS if all(verdict == HOLDS for verdict in verdicts) else NOT_RESOLVED


def _best_record(claim: Claim, a: CellKey, others: list[CellKey], cells: CellRuns, rng_seed: int, resamples: int) -> dict:
    comparisons = []
    for other in others:
        difference = compare_cells(cells[a], cells[other], rng_seed, resamples)
        comparisons.append(_pair_record(a, other, difference, pair_verdict("above", difference, None), cells))
    verdict = _best_verdict([c["verdict"] for c in comparisons])
    shown = _deciding(comparisons, verdict)
    notes = sorted({c["note"] for c in comparisons if c["note"]})
    note = "; ".join([f"shown: the deciding one of {len(others)} comparisons", *notes])
    return {**_claim_record(claim), **shown, "verdict": verdict, "note": note, "comparisons": comparisons}


def check_claim(claim: Claim, cells: CellRuns, splits: dict[str, str], rng_seed: int = 0, resamples: int = 10_000) -> dict:
    """One JSON-ready record: the claim, its cells' means and runs, a - b with its 95% CI, the verdict and
    a note on why a claim could not be resolved or run."""
    selectors = [claim.a, *([claim.b] if claim.b else claim.others)]
    found = [_find_cell(claim, selector, cells, splits) for selector in selectors]
    missing = [name for key, name in found if key is None]
    if missing:
        return _not_run_record(claim, missing)
    a, *rest = [key for key, _ in found]
    if claim.relation == "best":
        return _best_record(claim, a, rest, cells, rng_seed, resamples)
    difference = compare_cells(cells[a], cells[rest[0]], rng_seed, resamples)
    verdict = pair_verdict(claim.relation, difference, claim.tolerance)
    return {**_claim_record(claim), **_pair_record(a, rest[0], difference, verdict, cells)}


def check_claims(claims: list[Claim], cells: CellRuns, splits: dict[str, str], rng_seed: int = 0, resamples: int = 10_000) -> list[dict]:
    return [check_claim(claim, cells, splits, rng_seed, resamples) for claim in claims]


# ---------------------------------------------------------------------------------------------------
# Writing


def verdict_counts(records: list[dict]) -> dict[str, int]:
    return {verdict: sum(record["verdict"] == verdict for record in records) for verdict in VERDICTS}


def _side_text(side: dict | None) -> str:
    return "" if side is None else f"{', '.join(side['row'])} ({side['column']}) {side['mean']:.2f}"


def difference_text(record: dict) -> str:
    """"+7.33 [+6.50, +8.50]": a - b and its 95% CI in top-1 points ("" for a claim not run)."""
    if record["difference"] is None:
        return ""
    low, high = record["ci95"]
    return f"{record['difference']:+.2f} [{low:+.2f}, {high:+.2f}]"


def _markdown_cell(text: str) -> str:
    return str(text).replace("|", r"\|").replace("\n", " ")


def _markdown_row(record: dict) -> str:
    means = f"{_side_text(record['a'])} vs {_side_text(record['b'])}" if record["a"] else ""
    fields = [record["id"], record["table"], record["statement"], means, difference_text(record), record["n"], record["verdict"],
              record["note"]]
    return "| " + " | ".join(_markdown_cell(field) for field in fields) + " |"


def claims_table_markdown(records: list[dict]) -> str:
    """The claims as one Markdown table (the claims report, the manuscript and the notebooks show this)."""
    columns = ["Claim", "Table", "Statement", "a vs b (mean top-1 %)", "a - b [95% CI]", "n", "Verdict", "Note"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return "\n".join(lines + [_markdown_row(record) for record in records]) + "\n"


def claims_markdown(records: list[dict], scale: str) -> str:
    """The scale is named first so a verdict on the embedded world is never read as one on the paper's data."""
    counts = ", ".join(f"{count} {verdict}" for verdict, count in verdict_counts(records).items())
    header = f"**The paper's Sec. 6 claims (and our controls, marked) checked against our repeats. Ours: {scale}.** {len(records)} claims: {counts}."
    return f"{header}\n\n{claims_table_markdown(records)}"


def write_claims(records: list[dict], outputs: dict[str, Path], scale: str) -> None:
    """outputs: "md", "json" and "html" (the Markdown as a page, for `snakemake --report`)."""
    from noisyactions.html_pages import markdown_page

    markdown = claims_markdown(records, scale)
    atomic_write_text(Path(outputs["md"]), markdown)
    atomic_write_text(Path(outputs["json"]), json.dumps(records, indent=2) + "\n")
    atomic_write_text(Path(outputs["html"]), markdown_page(markdown, "The paper's claims, checked"))
