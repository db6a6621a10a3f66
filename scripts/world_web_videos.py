"""Snakemake entry point: render and encode every web video of the embedded world."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.world.build import build_web_videos

with log_to_file(snakemake.log[0]):  # noqa: F821 (snakemake is injected by the script: directive)
    build_web_videos(snakemake.params.world, Path(snakemake.input[0]), Path(snakemake.output[0]), snakemake.threads)  # noqa: F821
