"""Snakemake entry point: one of Tables 3-7, the paper's accuracies beside ours."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.paper.provenance import provenance
from noisyactions.training.result_tables import build_table, collect_runs, table_spec

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    results = collect_runs(sm.input.results)
    setup = sm.params.setup
    table = table_spec(sm.rule, sm.params.get("label_noise"))
    build_table(table, results, setup["model"], setup["split"], provenance(sm.params.scale, sm.config), {k: Path(v) for k, v in sm.output.items()})
