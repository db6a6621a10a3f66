"""Snakemake entry point: how many videos of each corrupted copy of UCF101 still decode fully, partly, not at all."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.robustness.run import corruption_report

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    corruption_report({Path(path).parent.name: Path(path) for path in sm.input}, {k: Path(v) for k, v in sm.output.items()})
