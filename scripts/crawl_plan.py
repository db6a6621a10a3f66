"""Snakemake entry point: search every query (or read the id list) and write the shard plan."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.crawl.run import plan_crawl
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    queries = Path(sm.input.queries) if "queries" in sm.input.keys() else None
    plan_crawl(sm.params.flickr, sm.params.world, sm.params.crawl, queries, Path(sm.output.plan), Path(sm.output.stats), Path(sm.params.journal))
