"""Snakemake entry point: fetch again only what failed, in finished metadata and download shards."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.crawl.run import retry_failures
from noisyactions.logs import log_to_file

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    retry_failures(sm.params.flickr, sm.params.world, sm.params.crawl, [Path(p) for p in sm.input.metadata], [Path(p) for p in sm.input.downloads])
