"""Snakemake entry point: the manuscript's HTML printed to PDF by headless Chromium."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.paper.browser import print_pdf

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    print_pdf(Path(sm.input[0]), Path(sm.output[0]))
