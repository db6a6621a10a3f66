"""Snakemake entry point: the dataset table from the crawl shards."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset import run
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    run.dataset_table([Path(p) for p in sm.input.shards], Path(sm.input.labels), Path(sm.input.downloads), sm.params.min_videos, Path(sm.output[0]))
