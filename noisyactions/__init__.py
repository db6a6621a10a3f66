"""Rebuild NoisyActions2M from the raw Flickr crawl to the robustness tables.

Everything the Snakemake workflow does lives here so that it can be unit-tested and reused by the
benchmarks; the workflow's scripts only read paths and call these functions.
"""

__version__ = "0.1.0"
