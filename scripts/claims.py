"""Snakemake entry point: check every claim of the paper's Sec. 6 on our tables; results/claims.{md,json}."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.claims import check_claims, load_claims, write_claims
from noisyactions.logs import log_to_file
from noisyactions.training.result_tables import RESULT_TABLES, table_cells, table_spec

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    cells, splits = {}, {}
    for name in RESULT_TABLES:
        setup = sm.params.tables[name]
        splits[name] = setup["split"]
        cells.update(table_cells(name, table_spec(name, sm.params.label_noise), setup["model"], setup["split"], sm.params.seeds))
    records = check_claims(load_claims(Path(sm.input.claims)), cells, splits)
    write_claims(records, {k: Path(v) for k, v in sm.output.items()}, sm.params.scale)
