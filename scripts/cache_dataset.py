"""Snakemake entry point: index one dataset from its official files and cache it at training resolution."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.video import run

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    split = tuple(Path(p) for p in sm.input.split) if "split" in sm.input.keys() else None
    table = Path(sm.input.table) if "table" in sm.input.keys() else None
    videos = Path(sm.input.videos) if "videos" in sm.input.keys() else None
    index = run.dataset_index(sm.wildcards.cached, sm.params.datasets, table, split, videos)
    run.cache_dataset(index, sm.params.cache, Path(sm.output.videos), Path(sm.output.index), Path(sm.output.classes))
