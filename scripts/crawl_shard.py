"""Snakemake entry point: fetch every video of one shard of the plan."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.crawl.run import crawl_one_shard
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    crawl_one_shard(sm.params.flickr, sm.params.world, sm.params.crawl, Path(sm.input.plan), Path(sm.output.table), Path(sm.output.stats), Path(sm.params.journal))
