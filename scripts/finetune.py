"""Snakemake entry point: fine-tune on UCF101 split 1 from pretrained weights, or train from scratch."""

from pathlib import Path

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.logs import log_to_file
from noisyactions.training.run import finetune

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    pretrained = Path(sm.input.pretrained[0]) if sm.input.pretrained else None
    finetune(pretrained, Path(sm.input.cache), Path(sm.input.classes), sm.params.video, sm.params.training, Path(sm.output.result).parent, Path(sm.output.result))
