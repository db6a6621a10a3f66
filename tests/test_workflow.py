"""The Snakemake workflow as a user meets it: dry runs, lint, the cluster profile, a real run."""

from __future__ import annotations

import re
from pathlib import Path
import subprocess
import sys

from conftest import REPO, TINY_CONFIG, snakemake

WORLD_RULES = ("world_web_metadata", "world_web_videos", "world_class_lists", "world_downstream")


def test_dry_run_lists_the_world_rules(tmp_path):
    out = snakemake("-n", workdir=tmp_path).stdout
    for rule in WORLD_RULES:
        assert f"rule {rule}:" in out or f"{rule} " in out, rule


def test_lint_is_clean(tmp_path):
    result = snakemake("--lint", workdir=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


def test_paper_config_builds_a_dag(tmp_path):
    """On a machine with no data: the class lists and the authors' official lists are downloads, the
    splits read the official lists and report what the crawl found of them, and the cache follows."""
    out = snakemake("all", "-n", "--cores", "2", "--configfile", str(REPO / "config" / "paper.yaml"), workdir=tmp_path).stdout
    official = "resources/noisyactions2m_official/multilabel"
    for name in ("25k", "100k"):
        for stem in ("trainlist", "classInd"):
            assert f"output: {official}/{stem}{name}.txt" in out, f"{stem}{name}.txt is downloaded"
    splits_job = out[out.index("rule splits:"):].split("\n\n")[0]
    assert f"{official}/trainlist100k.txt" in splits_job and "results/splits/coverage.json" in splits_job
    assert "results/cache/noisyactions/index.parquet" in out and "rule class_list_download:" in out
    assert not (tmp_path / "resources").exists()


def test_repeats_run_every_cell_with_its_own_seed(tmp_path):
    """training.repeats = 3: each pretraining and fine-tuning of Table 5 three times, seeds 7, 8, 9, each
    fine-tuning from the pretraining of its own seed (repeats are paired across cells)."""
    overrides = tmp_path / "repeats.yaml"
    overrides.write_text("training:\n  repeats: 3\n  seed: 7\n")
    out = snakemake("table5", "-n", "--configfile", str(REPO / "config" / "config.yaml"), str(overrides), workdir=tmp_path).stdout
    jobs = re.findall(r"rule (finetune|pretrain_ssl):\n    input: (.*)\n    output: ([^,\n]*)", out)
    assert {output for _, _, output in jobs} == {f"results/r2plus1d/seed{seed}/{run}" for seed in (7, 8, 9) for run in (
        "pretrain/ssl_100k/best.pt", *(f"finetune/{d}/{i}/result.json" for d in ("ucf101", "hmdb51") for i in ("scratch", "ssl_100k")))}
    for _, inputs, output in jobs:
        if "finetune/ucf101/ssl_100k" in output:
            seed = output.split("/")[2]
            assert f"results/r2plus1d/{seed}/pretrain/ssl_100k/best.pt" in inputs, (output, inputs)


def test_bad_config_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("world:\n  enabled: true\n  web:\n    videos: many\n")
    result = snakemake("--cores", "1", "--configfile", str(bad), workdir=tmp_path, check=False)
    assert result.returncode != 0
    assert "key world.web.videos: 'many' is not of type 'integer'" in result.stderr
    assert not (tmp_path / "resources").exists()


def test_world_target_builds_and_is_then_up_to_date(tmp_path):
    snakemake("world", "--cores", "2", "--configfile", str(TINY_CONFIG), workdir=tmp_path)
    root = tmp_path / "resources" / "world"
    assert (root / "web" / "metadata.parquet").is_file()
    assert (root / "ucf101" / "ucfTrainTestlist" / "classInd.txt").is_file()
    assert (root / "hmdb51" / "testTrainMulti_7030_splits").is_dir()
    assert (root / "curated" / "train.csv").is_file()
    logs = {p.name for p in (tmp_path / "logs" / "world").glob("*.log")}
    assert logs == {"web_metadata.log", "web_videos.log", "class_lists.log"} | {f"downstream_{d}.log" for d in ("ucf101", "hmdb51", "curated")}
    again = snakemake("world", "-n", "--configfile", str(TINY_CONFIG), workdir=tmp_path).stdout
    assert "Nothing to be done" in again


def test_python_has_no_unused_imports_or_undefined_names():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "noisyactions", "tests", "scripts", "benchmarks"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_snakefile_needs_no_torch_to_build_its_dag():
    """Snakemake itself may run in a small environment (conda envs per rule hold torch): the package
    modules the rules import at parse time must not pull torch in."""
    modules = sorted({line.split()[1] for path in (REPO / "workflow" / "rules").glob("*.smk")
                      for line in path.read_text().splitlines() if line.startswith("from noisyactions")})
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "assert 'torch' not in sys.modules, 'torch imported'\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and modules, (modules, done.stderr[-2000:])


def test_no_script_shadows_a_module_a_library_imports():
    """Snakemake puts scripts/ first on a job's sys.path, so a script named like a module is what a
    library's `import` finds, even an optional one (nbconvert tries `from notebook import ...`): the job
    then fails inside that library. Checked against what is installed and what the notebook and
    plotting libraries import."""
    import importlib.util

    stems = {path.stem for path in (REPO / "scripts").glob("*.py")} - {"use_repo_package"}
    clashes = {stem for stem in stems if importlib.util.find_spec(stem) is not None}
    for library in ("nbconvert", "nbclient", "jupyter_client", "ipykernel", "jupytext", "matplotlib", "seaborn"):
        for source in Path(importlib.util.find_spec(library).origin).parent.rglob("*.py"):
            imported = set(re.findall(r"^\s*(?:from|import)\s+(\w+)", source.read_text(errors="replace"), flags=re.M))
            clashes |= stems & imported
    assert not clashes, f"rename these scripts: {sorted(clashes)}"
