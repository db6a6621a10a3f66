"""Snakemake entry point: one of Tables 3-7 as a figure: every repeat, mean and 95% CI, the paper's number."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.training.result_figures import result_figure
from noisyactions.training.result_tables import collect_runs, table_spec

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    setup = sm.params.setup
    table = table_spec(sm.wildcards.table, sm.params.label_noise)
    result_figure(table, collect_runs(sm.input.results), setup["model"], setup["split"], sm.params.scale, {k: Path(v) for k, v in sm.output.items()})
