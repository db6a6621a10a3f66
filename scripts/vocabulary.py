"""Snakemake entry point: the search queries and labels from the class lists."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset import run
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    run.vocabulary(sm.params.vocabulary, Path(sm.output.queries), Path(sm.output.labels))
