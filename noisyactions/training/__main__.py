"""`python -m noisyactions.training JOB.json`: run one training job (see launch.py); torchrun starts this."""

import json
import sys

from noisyactions.training.launch import run_job

if len(sys.argv) != 2:
    sys.exit("usage: python -m noisyactions.training JOB.json")
with open(sys.argv[1]) as handle:
    run_job(json.load(handle))
