"""A table cell run with several seeds ("repeats"): its summary and how the tables print it.

Every cell is run with the same seeds, so one number per cell would hide how much of a gap between
two cells is seed noise. A cell is printed as mean ± sample std with its n, so a reader sees at once
whether two cells differ by more than their spread; a single repeat prints as the bare number, since
it has no spread to show and "± 0.00" would claim a precision it does not have.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class CellSummary:
    mean: float
    std: float  # sample std (ddof=1): the repeats are a sample of the seeds one could have run; 0.0 for n=1
    n: int
    values: tuple[float, ...]


def _checked_values(values: Sequence[float]) -> tuple[float, ...]:
    """A cell with no repeats has no mean; say so rather than print nan into a table."""
    checked = tuple(float(value) for value in values)
    if not checked:
        raise ValueError("a cell with no repeats: summarise needs at least one value (no run finished for this cell)")
    return checked


def summarise(values: Sequence[float]) -> CellSummary:
    checked = _checked_values(values)
    n = len(checked)
    mean = math.fsum(checked) / n
    std = math.sqrt(math.fsum((value - mean) ** 2 for value in checked) / (n - 1)) if n > 1 else 0.0
    return CellSummary(mean=mean, std=std, n=n, values=checked)


def format_cell(summary: CellSummary, digits: int = 2) -> str:
    """"44.54 ± 1.23 (n=3)"; one repeat is just "44.54" (no spread measured, none claimed)."""
    if summary.n == 1:
        return f"{summary.mean:.{digits}f}"
    return f"{summary.mean:.{digits}f} ± {summary.std:.{digits}f} (n={summary.n})"


def per_repeat_text(values: Sequence[float], digits: int = 2) -> str:
    """"44.54;45.10;43.90": every repeat in one CSV field (';' keeps the CSV's own commas free), in
    the order given: pass them in seed order and a reader can pair cells by seed again."""
    return ";".join(f"{value:.{digits}f}" for value in _checked_values(values))
