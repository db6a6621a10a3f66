"""Snakemake entry point: execute one of paper/notebooks/*.py on the results it declares, to .ipynb and HTML."""

import os
from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.paper.notebooks import run_notebook

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    inputs = {name: path for name, path in sm.input.items() if name != "notebook"}
    run_notebook(Path(sm.input.notebook), {"inputs": inputs, **dict(sm.params.items())}, Path(sm.output.ipynb), Path(sm.output.html), Path(os.getcwd()))
