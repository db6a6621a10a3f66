"""Run a training job in this process, or under torchrun over every visible GPU when there are several.

A job is one function of noisyactions.training.run and its arguments, written to a JSON file beside
its outputs; `python -m noisyactions.training JOB.json` runs it, which is what torchrun starts on
each GPU (DistributedDataParallel inside `fit`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from noisyactions.atomic import atomic_write_text
from noisyactions.training.trainer import batch_per_process

REPO_ROOT = str(Path(__file__).resolve().parents[2])


def torchrun_command(job_path: Path, processes: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", "-m", "noisyactions.training", str(job_path)]


def run_job(job: dict) -> None:
    from noisyactions.training import run

    getattr(run, job["function"])(**{k: Path(v) if k in job.get("paths", []) and v is not None else v for k, v in job["arguments"].items()})


def launch(function: str, arguments: dict, paths: list[str], job_path: Path) -> None:
    """Run `run.<function>(**arguments)`; `paths` names the arguments that are file paths."""
    job = {"function": function, "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in arguments.items()}, "paths": paths}
    gpus = torch.cuda.device_count()
    if gpus <= 1:
        run_job(job)
        return
    batch_per_process(arguments["training"]["batch_size"], gpus)  # one clear error here rather than one per process
    atomic_write_text(job_path, json.dumps(job, indent=2))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (REPO_ROOT, os.environ.get("PYTHONPATH")) if p)}
    subprocess.run(torchrun_command(job_path, gpus), check=True, env=env)
