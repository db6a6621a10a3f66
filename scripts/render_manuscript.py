"""Snakemake entry point: fill paper/manuscript.md from the results and render it to HTML."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.paper.manuscript import Results, template_values, write_manuscript

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    by_name = lambda paths: {Path(path).stem: Path(path) for path in paths}  # noqa: E731
    results = Results(by_name(sm.input.tables), by_name(sm.input.figures), by_name(sm.input.notebooks), Path(sm.input.claims), Path(sm.output.md).parent)
    write_manuscript(Path(sm.input.template), results, template_values(sm.params.scale, sm.params.config), Path(sm.output.md), Path(sm.output.html),
                     "NoisyActions2M, rebuilt")
