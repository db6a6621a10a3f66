"""Snakemake entry point: the 25K/100K splits in the authors' format and what each holds."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset import run
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    report = {kind: Path(sm.output[kind]) for kind in ("csv", "json", "md")}
    run.splits(Path(sm.input.table), sm.params.splits, sm.params.min_videos, sm.params.scale, Path(sm.output[0]).parent, report)
