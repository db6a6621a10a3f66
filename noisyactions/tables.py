"""Write a paper table as CSV, Markdown and LaTeX, each saying at what scale its numbers were made.

Every table puts the paper's numbers beside ours and names the config label ("embedded synthetic
world" or "paper scale") in its caption, so an embedded result is never read as the paper's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from noisyactions.atomic import atomic_write_text


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


def write_paper_table(frame: pd.DataFrame, csv_path: Path, md_path: Path, tex_path: Path, title: str, scale: str,
                      csv_frame: pd.DataFrame | None = None) -> None:
    """`csv_frame`: what the CSV holds when it says more than the printed table (every repeat's number)."""
    caption = f"{title} Ours: {scale}."
    atomic_write_text(csv_path, (frame if csv_frame is None else csv_frame).to_csv(index=False))
    atomic_write_text(md_path, f"**{caption}**\n\n{markdown_table(frame)}\n")
    atomic_write_text(tex_path, _latex(frame, caption) + "\n")
