"""Snakemake entry point: merge the download shards and write the download report."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.crawl.run import merge_downloads
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    merge_downloads(
        [Path(p) for p in sm.input.tables], [Path(p) for p in sm.input.stats], sm.params.label,
        Path(sm.output.table), Path(sm.output.report_json), Path(sm.output.report_md),
    )
