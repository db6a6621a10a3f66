"""Snakemake entry point: one downstream dataset (UCF101, HMDB51 or curated) in its official format."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.world.build import build_downstream

with log_to_file(snakemake.log[0]):  # noqa: F821 (snakemake is injected by the script: directive)
    build_downstream(snakemake.params.world, snakemake.wildcards.dataset, Path(snakemake.output[0]), snakemake.threads)  # noqa: F821
