"""Snakemake entry point: a copy of UCF101's videos with random or contiguous bit flips (the originals are only read)."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.robustness.run import corrupt_ucf101

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    corrupt_ucf101(sm.params.ucf101, sm.wildcards.mode, sm.params.p, sm.params.splits, sm.params.seed, Path(sm.output.videos), Path(sm.output.flips))
