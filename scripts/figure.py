"""Snakemake entry point: one of Figures 1-5."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset.figures import draw_figure
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    draw_figure(sm.wildcards.figure, Path(sm.input.table), Path(sm.input.entities), sm.params.scale, sm.params.figures, Path(sm.output.pdf), Path(sm.output.png))
