"""Snakemake entry point: the crawl's query table from the configured query files."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.crawl.run import build_query_table
from noisyactions.logs import log_to_file

with log_to_file(snakemake.log[0]):  # noqa: F821 (snakemake is injected by the script: directive)
    build_query_table(snakemake.params.crawl, Path(snakemake.output[0]))  # noqa: F821
