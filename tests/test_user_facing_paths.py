"""What users get never points at the development folder beside the repository: they have no such folder.
Code, docstrings, config, schema and README cite the paper or the public source instead; only tests read it."""

from __future__ import annotations

import re
import subprocess

from conftest import REPO

# "../shared/..." or an absolute path into a sibling "shared" folder (a workplace convention, not a user's).
DEVELOPMENT_FOLDER = re.compile(r"\.\./shared\b|/work/shared\b|\bshared/(data|reference|paper|hooks)\b")


def user_facing_files() -> list[str]:
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [name for name in tracked if not name.startswith("tests/") and (REPO / name).is_file()]


def test_nothing_user_facing_points_at_the_development_folder():
    offending = []
    for name in user_facing_files():
        text = (REPO / name).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if DEVELOPMENT_FOLDER.search(line):
                offending.append(f"{name}:{number}: {line.strip()}")
    assert not offending, "users have no ../shared; cite the paper or the public source:\n" + "\n".join(offending)


def test_the_check_sees_a_reference():
    """The pattern itself: a path into the development folder is caught, ordinary prose about sharing is not."""
    assert DEVELOPMENT_FOLDER.search("facts in ../shared/reference/flickr.md")
    assert DEVELOPMENT_FOLDER.search("see shared/data/class_vocab")
    assert not DEVELOPMENT_FOLDER.search("a rate limit shared by every process, through a file on a shared filesystem")


def test_documented_commands_put_targets_before_configfile():
    """Snakemake's --configfile takes several files: `--configfile config/paper.yaml all` reads `all` as
    a config file and stops. Every command we document names its targets first (or after `--`)."""
    import re

    documents = [REPO / "README.md", *sorted((REPO / "config").glob("*.yaml")), *sorted((REPO / "slurm").glob("*.yaml"))]
    pattern = re.compile(r"--configfile(?:[ \t]+\S+\.ya?ml)+[ \t]+(?!--|#)([A-Za-z_]\w*)\b(?!\.ya?ml)")
    wrong = [f"{path.name}: {match.group(0)}" for path in documents for match in pattern.finditer(path.read_text())]
    assert not wrong, wrong
