"""Snakemake entry point: pretrain on the NoisyActions split with one loss of Sec. 4.1."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.training.run import pretrain

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    split_list, class_index = (Path(p) for p in sm.input.split)
    pretrain(sm.wildcards.loss, Path(sm.input.table), split_list, class_index, Path(sm.input.cache), sm.params.video, sm.params.training, Path(sm.output.best).parent)
