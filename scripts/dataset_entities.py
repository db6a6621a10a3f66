"""Snakemake entry point: entity types of each video's metadata (App. A.2)."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.dataset.entities import write_entities
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    write_entities(Path(sm.input[0]), sm.params.entities, Path(sm.output[0]))
