"""What the notebooks show, in one place: a figure as a PNG, and a results table with its figure and claims.

The figure functions of the package draw on the Agg backend (they run in jobs without a display), so
a notebook shows their figures as PNG images rather than through pyplot's inline backend.
"""

from __future__ import annotations

import io
from pathlib import Path

from noisyactions.claims import claims_table_markdown


def show_figure(figure) -> None:
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    display(Image(data=buffer.getvalue()))


def show_result_table(name: str, inputs: dict, claims: list[dict]) -> None:
    """The table as written (`inputs["<name>_md"]`), every repeat's number (`inputs["<name>_csv"]`), its
    figure (`inputs["<name>_runs"]`, drawn by the table_figure rule) and the claims about it (`claims`:
    results/claims.json's records)."""
    import pandas as pd
    from IPython.display import Image, Markdown, display

    display(Markdown(Path(inputs[f"{name}_md"]).read_text()))
    display(pd.read_csv(inputs[f"{name}_csv"], dtype=str, keep_default_na=False).style.hide(axis="index"))
    display(Image(filename=inputs[f"{name}_runs"]))
    about = [record for record in claims if record["table"] == name]
    if about:
        display(Markdown(claims_table_markdown(about)))
