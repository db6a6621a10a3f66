"""Make this checkout's `noisyactions` importable from a rule's conda env, where it is not installed.

Snakemake puts a script's own folder on sys.path, so `import use_repo_package` works in every env;
the repository root (this folder's parent) goes first so that the checkout's code is what runs.
"""

import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[1])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
