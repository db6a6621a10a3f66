"""A written results table (results/tables/tableN.csv) read back by row label and column name.

The manuscript's prose and the notebooks quote cells of the tables the workflow wrote, not numbers
typed by hand; a row or column that is not in the table is an error naming the table and what it does
have, so a renamed row cannot leave a blank or a stale number in the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from noisyactions.repeats import CellSummary, format_cell

OURS_PREFIX, PAPER_PREFIX = "Ours", "Paper"  # how a written table names its columns


@dataclass(frozen=True)
class Cell:
    paper: str  # the paper's number as printed ("" where the paper has none)
    ours: str  # our mean (or Tables 1-2's value) as printed
    std: str
    n: int

    @property
    def spread(self) -> str:
        """"43.17 ± 1.89 (n=3)" as the tables print it (repeats.format_cell); one repeat is the bare number."""
        if self.n == 1:
            return self.ours
        return format_cell(CellSummary(mean=float(self.ours), std=float(self.std), n=self.n, values=()))

    def __str__(self) -> str:
        return self.ours


class WrittenTable:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.name = self.path.stem
        try:
            self.frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError) as error:
            raise ValueError(f"{self.path}: cannot read the table ({type(error).__name__}: {error})") from None
        self.label_columns = [c for c in self.frame.columns if not c.startswith((OURS_PREFIX, PAPER_PREFIX))]
        self.columns = [c[len(OURS_PREFIX) + 2:-1] for c in self.frame.columns if c.startswith(f"{OURS_PREFIX} (") and c.endswith(")")]

    def row_names(self) -> list[str]:
        return [" / ".join(row) for row in self.frame[self.label_columns].itertuples(index=False)]

    def row(self, *labels: str) -> pd.Series:
        """The one row whose first label columns are `labels`."""
        if not labels or len(labels) > len(self.label_columns):
            raise KeyError(f"{self.path}: name a row by 1 to {len(self.label_columns)} labels ({', '.join(self.label_columns)})")
        found = self.frame
        for column, label in zip(self.label_columns, labels):
            found = found[found[column] == label]
        if len(found) != 1:
            raise KeyError(f"{self.path}: {len(found)} rows are {' / '.join(labels)!r}; its rows: {'; '.join(self.row_names())}")
        return found.iloc[0]

    def _column(self, column: str) -> str:
        if column not in self.columns:
            raise KeyError(f"{self.path}: no column {column!r}; its columns: {', '.join(self.columns)}")
        return column

    def cell(self, *labels: str, column: str | None = None) -> Cell:
        """`column` may be left out when the table has one ("UCF101" in Tables 3 and 4)."""
        if column is None:
            if len(self.columns) != 1:
                raise KeyError(f"{self.path}: name the column, one of {', '.join(self.columns)}")
            column = self.columns[0]
        row, column = self.row(*labels), self._column(column)
        paper = row.get(f"{PAPER_PREFIX} ({column})", row.get(PAPER_PREFIX, ""))  # Table 2 has one "Paper" column
        return Cell(paper=paper, ours=row[f"{OURS_PREFIX} ({column})"], std=row.get(f"{OURS_PREFIX} ({column}) std", ""),
                    n=int(row.get(f"{OURS_PREFIX} ({column}) n", 1)))

    def value(self, *labels: str, column: str) -> str:
        """Any column of a row as printed (Table 1's "# Videos" of our row)."""
        row = self.row(*labels)
        if column not in self.frame.columns:
            raise KeyError(f"{self.path}: no column {column!r}; its columns: {', '.join(self.frame.columns)}")
        return row[column]
