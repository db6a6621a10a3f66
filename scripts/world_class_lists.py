"""Snakemake entry point: the world's class lists, one per dataset naming convention."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.world.build import write_class_lists

with log_to_file(snakemake.log[0]):  # noqa: F821 (snakemake is injected by the script: directive)
    write_class_lists(snakemake.params.world, Path(snakemake.output[0]).parent)  # noqa: F821
