"""Snakemake entry point: supervised pretraining on a NoisyActions split with one loss of Sec. 4.1, from
scratch or from an SSL checkpoint (all visible GPUs)."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.training.launch import launch

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    split_list, class_index = sm.input.split
    out_dir = Path(sm.output.best).parent
    arguments = dict(loss=sm.params.loss, model=sm.wildcards.model, table=sm.input.table, split_list=split_list, class_index=class_index,
                     cache_index=sm.input.cache, video=sm.params.video, training={**sm.params.training, "seed": int(sm.wildcards.seed)}, out_dir=str(out_dir),
                     initial=sm.input.initial[0] if sm.input.initial else None)
    launch("pretrain", arguments, ["table", "split_list", "class_index", "cache_index", "out_dir", "initial"], out_dir / "job.json")
