"""Snakemake entry point: download a missing input file (a class list, one of the authors' split lists)."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset import run
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    run.download_file(sm.params.url, Path(sm.output[0]), sm.params.what)
