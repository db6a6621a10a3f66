"""What produced a table: the scale label, a digest of the config and the code version.

A table read months later, or mailed to a colleague, must say which run made it. The config digest
names the merged config a job ran with (the one `snakemake --configfile ...` built), so two tables
with the same digest came from the same settings; the code version is `git describe` of the checkout
the workflow ran from. Both are taken when the table is written, not when it is read: a table that a
later run did not rebuild keeps the stamp of the run that made it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Mapping

CHECKOUT = Path(__file__).resolve().parents[2]  # the workflow's repository: noisyactions/ sits at its root
DIGEST_CHARS = 12


def config_digest(config: Mapping) -> str:
    """sha256 of the config as canonical JSON (sorted keys), shortened: equal settings, equal digest."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:DIGEST_CHARS]


@cache
def code_version(checkout: Path = CHECKOUT) -> str:
    """`git describe --always --dirty` of the checkout ("-dirty": tracked files differ from the commit);
    a release tarball or an installed package has no history, and says so rather than guess. Parallel
    table jobs ask at once: GIT_OPTIONAL_LOCKS=0 keeps git from taking the index lock to refresh it."""
    if shutil.which("git") is None:
        return "unknown (git not installed)"
    try:
        described = subprocess.run(["git", "-C", str(checkout), "describe", "--always", "--dirty"], capture_output=True, text=True,
                                   timeout=30, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unknown ({type(error).__name__})"
    if described.returncode != 0:
        reason = (described.stderr.strip().splitlines() or ["git describe failed"])[0]
        return "unknown (not a git checkout)" if "not a git repository" in reason else f"unknown ({reason[:120]})"
    return described.stdout.strip()


def provenance(scale: str, config: Mapping) -> str:
    """The line every table's caption ends with: "Ours: embedded synthetic world; config 3f2a..., code ff5b1b6"."""
    return f"Ours: {scale}; config {config_digest(config)}, code {code_version()}."
