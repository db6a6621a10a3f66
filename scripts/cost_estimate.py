"""Snakemake entry point: what Tables 3-7 cost for this config; results/cost/cost.{md,csv}, the Markdown printed."""

import sys
from pathlib import Path

import torch

import use_repo_package  # noqa: F401 (noisyactions importable in conda envs)

from noisyactions.cost import estimate_config, write_estimate
from noisyactions.logs import log_to_file
from noisyactions.paper.provenance import provenance
from noisyactions.training.model_names import MODEL_NAMES
from noisyactions.training.models import VideoResNet18, parameter_count

sm = snakemake  # noqa: F821 (snakemake is injected by the script: directive)
with log_to_file(sm.log[0]):
    with torch.device("meta"):  # a parameter count needs the layout, not the weights
        models = {name: VideoResNet18(name, 1, sm.params.config["training"]["width"]) for name in MODEL_NAMES}
    backbones = {name: parameter_count(model) - parameter_count(model.fc) for name, model in models.items()}
    estimate = estimate_config(sm.params.jobs, sm.params.caches, sm.params.config, backbones, provenance(sm.params.config["label"], sm.config))
    text = write_estimate(estimate, {kind: Path(path) for kind, path in sm.output.items()})
    print(text, flush=True)  # on the terminal
    print(text, file=sys.stderr)  # and in the log
