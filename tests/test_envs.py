"""The conda envs real users get (no conda channel is reachable here) parse, are pinned, and agree
with pyproject.toml, which is what this machine installs and tests."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "pytorch": "torch"}
DRIVER_ONLY = {"snakemake", "snakemake-executor-plugin-slurm"}  # run the workflow, not its jobs


def _project_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {Requirement(r).name.lower(): Requirement(r) for r in project["dependencies"]}


def _env_pins(path) -> dict[str, str]:
    """package -> pinned version, conda and pip entries alike (pip names as on PyPI)."""
    env = yaml.safe_load(path.read_text())
    pins = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            for pip_entry in entry["pip"]:
                name, _, version = pip_entry.partition("==")
                pins[name.lower()] = version
        elif entry != "pip":
            name, _, version = entry.partition("=")
            pins[CONDA_TO_PYPI.get(name, name)] = version
    return pins


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_is_conda_forge_and_pinned(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"][0] == "conda-forge"
    pins = _env_pins(path)
    assert pins.pop("python") == "3.11"
    for name, version in pins.items():
        assert re.fullmatch(r"\d+(\.\d+)+", version), f"{path.name}: {name} is not pinned to an exact version"


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_pins_satisfy_pyproject(path):
    requirements = _project_requirements()
    for name, version in _env_pins(path).items():
        if name == "python":
            continue
        assert name in requirements, f"{path.name}: {name} is not a dependency in pyproject.toml"
        assert requirements[name].specifier.contains(version), f"{path.name}: {name}={version} outside {requirements[name]}"


def test_every_job_dependency_is_in_some_env():
    in_envs = set().union(*(_env_pins(path) for path in ENVS))
    missing = set(_project_requirements()) - DRIVER_ONLY - in_envs
    assert not missing, f"pyproject.toml dependencies no env provides: {sorted(missing)}"


def test_every_rule_names_an_existing_env():
    checked = 0
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        text = smk.read_text()
        for rule, body in re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", text, flags=re.M):
            if "script:" not in body and "shell:" not in body:
                continue  # a target rule: nothing runs
            env = re.search(r'conda:\s*\n\s*"([^"]+)"', body)
            assert env, f"{smk.name}: rule {rule} names no conda env"
            assert (smk.parent / env.group(1)).resolve().is_file(), f"{smk.name}: rule {rule}: {env.group(1)} missing"
            checked += 1
    assert checked >= 4, "the rule parser found too few rules to trust"
