"""Snakemake entry point: Table 1, with our dataset's row computed."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset import run
from noisyactions.logs import log_to_file
from noisyactions.paper.provenance import provenance

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    run.table1(Path(sm.input[0]), sm.params.scale, provenance(sm.params.scale, sm.config), {k: Path(v) for k, v in sm.output.items()})
