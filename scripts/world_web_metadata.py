"""Snakemake entry point: the embedded world's web corpus table."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.world.build import write_web_metadata

with log_to_file(snakemake.log[0]):  # noqa: F821 (snakemake is injected by the script: directive)
    write_web_metadata(snakemake.params.world, Path(snakemake.output[0]))  # noqa: F821
