"""Snakemake entry point: one of Figures 1-5."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset import run
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    run.figure(sm.wildcards.figure, Path(sm.input.table), Path(sm.input.entities), sm.params.scale, sm.params.figures, Path(sm.output.pdf), Path(sm.output.png))
