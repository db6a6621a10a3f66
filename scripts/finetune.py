"""Snakemake entry point: fine-tune on UCF101 or HMDB51 split 1 (or a noisy or corrupted copy of UCF101) from pretrained weights,
or from scratch (all visible GPUs)."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.training.launch import launch

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    out_dir = Path(sm.output.result).parent
    train_labels, class_index = sm.input.train_labels if sm.input.train_labels else (None, None)
    arguments = dict(model=sm.wildcards.model, pretrained=sm.input.pretrained[0] if sm.input.pretrained else None, cache_index=sm.input.cache,
                     classes_file=sm.input.classes, video=sm.params.video, training={**sm.params.training, "seed": int(sm.wildcards.seed)}, out_dir=str(out_dir), result=sm.output.result,
                     train_labels=train_labels, class_index=class_index, residual_input=sm.params.residual_input)
    launch("finetune", arguments, ["pretrained", "cache_index", "classes_file", "out_dir", "result", "train_labels", "class_index"], out_dir / "job.json")
