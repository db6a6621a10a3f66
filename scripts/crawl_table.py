"""Snakemake entry point: merge the metadata shards and write the crawl report."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.crawl.run import merge_crawl
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    merge_crawl(
        [Path(p) for p in sm.input.tables], [Path(p) for p in sm.input.stats], Path(sm.input.search), sm.params.label,
        Path(sm.output.table), Path(sm.output.report_json), Path(sm.output.report_md),
    )
