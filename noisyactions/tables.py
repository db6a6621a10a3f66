"""Write a paper table as CSV, Markdown, LaTeX and HTML, each saying what made its numbers.

Every table puts the paper's numbers beside ours, and its caption ends with a provenance line
(noisyactions.paper.provenance): the config label ("embedded synthetic world" or "paper scale"), so
an embedded result is never read as the paper's, and the config digest and code version that made it.
The HTML is the table as `snakemake --report` shows it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from noisyactions.atomic import atomic_write_text
from noisyactions.html_pages import markdown_page


def markdown_table(frame: pd.DataFrame) -> str:
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


def _latex(frame: pd.DataFrame, caption: str) -> str:
    escape = lambda v: "" if pd.isna(v) else str(v).replace("&", r"\&").replace("%", r"\%").replace("#", r"\#").replace("_", r"\_")  # noqa: E731
    lines = [r"\begin{table}", r"\centering", rf"\caption{{{escape(caption)}}}", r"\begin{tabular}{" + "l" * len(frame.columns) + "}", r"\hline"]
    lines.append(" & ".join(escape(c) for c in frame.columns) + r" \\ \hline")
    lines += [" & ".join(escape(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    lines += [r"\hline", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


TABLE_KINDS = ("csv", "md", "tex", "html")


def write_paper_table(frame: pd.DataFrame, outputs: dict[str, Path], title: str, stamp: str, csv_frame: pd.DataFrame | None = None) -> None:
    """`outputs`: a path per TABLE_KINDS; `stamp`: the provenance line the caption ends with;
    `csv_frame`: what the CSV holds when it says more than the printed table (every repeat's number)."""
    caption = f"{title} {stamp}"
    markdown = f"**{caption}**\n\n{markdown_table(frame)}\n"
    atomic_write_text(Path(outputs["csv"]), (frame if csv_frame is None else csv_frame).to_csv(index=False))
    atomic_write_text(Path(outputs["md"]), markdown)
    atomic_write_text(Path(outputs["tex"]), _latex(frame, caption) + "\n")
    atomic_write_text(Path(outputs["html"]), markdown_page(markdown, title.split(":")[0]))
