"""Snakemake entry point: UCF101's lists with synthetic label noise in its training list, and the noise's report."""

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.robustness.run import noisy_ucf101

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    noisy_ucf101(sm.params.ucf101, sm.params.rate, sm.params.mode, sm.params.seed, dict(sm.output.items()))
