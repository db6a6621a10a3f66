"""Snakemake entry point: PCL self-supervised pretraining on one source's videos (all visible GPUs)."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.training.launch import launch

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    out_dir = Path(sm.output.best).parent
    split_list, class_index = sm.input.split if sm.input.split else (None, None)
    arguments = dict(model=sm.wildcards.model, cache_index=sm.input.cache, video=sm.params.video, training={**sm.params.training, "seed": int(sm.wildcards.seed)}, out_dir=str(out_dir),
                     table=sm.input.table[0] if sm.input.table else None, split_list=split_list, class_index=class_index)
    launch("pretrain_ssl", arguments, ["cache_index", "out_dir", "table", "split_list", "class_index"], out_dir / "job.json")
