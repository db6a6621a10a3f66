"""The conda envs real users get (no conda channel is reachable here) parse, are pinned, and agree
with pyproject.toml, which is what this machine installs and tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))
CONDA_TO_PYPI = {"matplotlib-base": "matplotlib", "pytorch": "torch", "nbconvert-core": "nbconvert"}
DRIVER_ONLY = {"snakemake", "snakemake-executor-plugin-slurm"}  # run the workflow, not its jobs


def _normalised(name: str) -> str:
    """A package's name as PyPI compares them: conda's jupyter_client is PyPI's jupyter-client."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _project_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {_normalised(Requirement(r).name): Requirement(r) for r in project["dependencies"]}


def _env_pins(path) -> dict[str, str]:
    """package -> pinned version, conda and pip entries alike (pip names as on PyPI)."""
    env = yaml.safe_load(path.read_text())
    pins = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            for pip_entry in entry["pip"]:
                name, _, version = pip_entry.partition("==")
                pins[_normalised(name)] = version
        elif entry != "pip":
            name, _, version = entry.partition("=")
            pins[_normalised(CONDA_TO_PYPI.get(name, name))] = version
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


def _rule_scripts() -> dict[tuple[str, str], list[str]]:
    """(env file, script file) -> the rules that run that script in that env, from workflow/rules/*.smk."""
    found: dict[tuple[str, str], list[str]] = {}
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for rule, body in re.findall(r"^(?:rule|checkpoint) (\w+):\n((?:[ \t]+.*\n|\n)*)", smk.read_text(), flags=re.M):
            env, script = re.search(r'conda:\s*\n\s*"([^"]+)"', body), re.search(r'script:\s*\n\s*"([^"]+)"', body)
            if env and script:
                key = (str((smk.parent / env.group(1)).resolve()), str((smk.parent / script.group(1)).resolve()))
                found.setdefault(key, []).append(rule)
    return found


def _imported_modules(sources: list[Path]) -> list[str]:
    """The modules the sources import at their top level (what a job loads before it calls anything);
    `from a import b` names both a and a.b, since b may be a submodule."""
    modules = []
    for source in sources:
        for line in source.read_text().splitlines():
            if match := re.match(r"from\s+([\w.]+)\s+import\s+\(?([\w\s,]+)", line):
                modules += [match.group(1), *(f"{match.group(1)}.{name.strip()}" for name in match.group(2).split(",") if name.strip())]
            elif match := re.match(r"import\s+([\w.]+)", line):
                modules.append(match.group(1))
    return [module for module in modules if module.split(".")[0] not in {"use_repo_package", "__future__"}]


LOADED_DISTRIBUTIONS = """
import importlib, json, sys
from importlib.metadata import packages_distributions
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name != module:  # a.b where b is a name, not a submodule, is fine; anything else is not
            raise
owners = packages_distributions()
loaded = {name.split(".")[0] for name in sys.modules} - {"mpl_toolkits"}  # a namespace that matplotlib and basemap-data share
found = {dist for name in loaded for dist in owners.get(name, [])}
if "mpl_toolkits.basemap_data" in sys.modules:
    found.add("basemap_data")
print(json.dumps(sorted(found)))
"""


@pytest.mark.parametrize("env_script", sorted(_rule_scripts()), ids=lambda pair: f"{Path(pair[1]).name}@{Path(pair[0]).name}")
def test_each_rule_script_loads_only_project_packages_its_env_provides(env_script):
    """A job under --sdm conda has only its env: a script that imports, even through the package, a
    dependency its env lacks fails there and nowhere else, so check what each script loads here.
    The notebook rule's kernel loads what the notebooks import."""
    env, script = map(Path, env_script)
    sources = [script, *((REPO / "paper" / "notebooks").glob("*.py") if script.name == "execute_notebook.py" else [])]
    loaded = subprocess.run([sys.executable, "-c", LOADED_DISTRIBUTIONS, *_imported_modules(sources)], capture_output=True, text=True,
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}, check=True)
    project = set(_project_requirements()) - DRIVER_ONLY
    provided = set(_env_pins(env))
    missing = sorted({_normalised(dist) for dist in json.loads(loaded.stdout)} & project - provided)
    assert not missing, f"{script.name} (rules {', '.join(_rule_scripts()[env_script])}) loads {missing}, which {env.name} does not provide"


def test_every_package_the_code_imports_is_declared():
    """An import that works here only because another package pulled it in (scipy came with
    reverse_geocode) breaks when that package changes: everything noisyactions and the scripts import,
    at any level, is a dependency of pyproject.toml (or the standard library)."""
    from importlib.metadata import packages_distributions

    owners = packages_distributions()
    declared = set(_project_requirements())
    sources = [*(REPO / "noisyactions").rglob("*.py"), *(REPO / "scripts").glob("*.py"), *(REPO / "paper" / "notebooks").glob("*.py")]
    undeclared = {}
    for source in sources:
        for module in re.findall(r"^\s*(?:from\s+(\w+)[\w.]*\s+import\b|import\s+(\w+))", source.read_text(), flags=re.M):
            module = module[0] or module[1]
            if module in sys.stdlib_module_names or module in {"noisyactions", "use_repo_package", "snakemake", "IPython", "mpl_toolkits"}:
                continue  # IPython: the notebook kernel's (ipykernel's); mpl_toolkits: matplotlib's and basemap-data's namespace
            distributions = {_normalised(name) for name in owners.get(module, [module])}
            if not distributions & declared:
                undeclared.setdefault(module, []).append(source.relative_to(REPO).as_posix())
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"
