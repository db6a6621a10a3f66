"""The SLURM profile as dry runs see it (no cluster needed; tests/test_slurm_cluster.py runs it on one)."""

from __future__ import annotations

import re
import shutil

import yaml

from conftest import REPO, snakemake

PROFILE = yaml.safe_load((REPO / "slurm" / "config.yaml").read_text())
WITHOUT_CONDA = ("--profile", "slurm", "--profile", "slurm/installed")  # no conda on this machine


def _jobs(dry_run: str) -> list[dict]:
    """Each planned job of a dry run: its rule, first output and its resources and threads as listed."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", dry_run):
        rule = re.search(r"^(?:local)?rule (\w+):", block, re.M)
        if rule is None or "output: " not in block:
            continue
        block = block.split("\n\n")[0]
        resources = re.search(r"resources: (.*)", block)
        threads = re.search(r"threads: (\d+)", block)
        jobs.append({"rule": rule.group(1), "output": block.split("output: ")[1].split()[0].rstrip(","),
                     "resources": dict(item.split("=", 1) for item in resources.group(1).split(", ")) if resources else {},
                     "threads": int(threads.group(1)) if threads else 1})
    return jobs


def test_the_profile_without_conda_resolves_and_leaves_cpus_to_threads(tmp_path):
    out = snakemake("world", *WITHOUT_CONDA, "-n", workdir=tmp_path).stdout
    jobs = _jobs(out)
    assert jobs and all(job["resources"]["mem_mb"] == "4000" and job["resources"]["runtime"] == "60" for job in jobs)
    assert "cpus_per_task" not in PROFILE["default-resources"], "threads: decide a job's CPUs"
    assert PROFILE["slurm-status-command"] == "squeue" and PROFILE["slurm-requeue"] is True and PROFILE["retries"] >= 1


def test_the_installed_overlay_only_swaps_conda_for_a_method_that_deploys_nothing_here():
    overlay = yaml.safe_load((REPO / "slurm" / "installed" / "config.yaml").read_text())
    assert overlay == {"software-deployment-method": "env-modules"} and PROFILE["software-deployment-method"] == "conda"
    rules = "".join(path.read_text() for path in (REPO / "workflow" / "rules").glob("*.smk"))
    assert "envmodules:" not in rules, "a rule that names an environment module would load it under slurm/installed"


def test_the_gpu_block_names_exactly_the_rules_that_ask_for_a_gpu(tmp_path):
    """The training rules declare gpu=1; the profile's GPU block (one YAML anchor) gives all of them the same
    submission settings."""
    jobs = _jobs(snakemake("all", "-n", "--cores", "16", "--configfile", str(REPO / "config" / "paper.yaml"), workdir=tmp_path).stdout)
    gpu_rules = {job["rule"] for job in jobs if job["resources"].get("gpu") == "1"}
    assert gpu_rules == {"pretrain_supervised", "pretrain_ssl", "finetune"}
    gpu_block = {rule: settings for rule, settings in PROFILE["set-resources"].items() if "gpu" in settings}
    assert set(gpu_block) == gpu_rules and len({yaml.safe_dump(settings) for settings in gpu_block.values()}) == 1
    # CPUs: the loader's workers (paper.yaml: 14) and the training process
    assert {job["threads"] for job in jobs if job["rule"] in gpu_rules} == {15}


def test_paper_scale_gpu_jobs_are_submitted_as_the_readme_documents(tmp_path):
    """`snakemake --profile slurm --configfile config/paper.yaml -n all` with the GPU block's partition and
    account filled in, as a user does: every training job shows them with its GPU, memory and time limit,
    and the README's table says the same."""
    profile = tmp_path / "slurm"
    shutil.copytree(REPO / "slurm", profile)
    text = (profile / "config.yaml").read_text()
    filled = text.replace("# slurm_partition: gpu", "slurm_partition: gpu").replace("# slurm_account: my_gpu_account", "slurm_account: my_gpu_account")
    assert filled != text
    (profile / "config.yaml").write_text(filled)
    out = snakemake("all", "--profile", str(profile), "--profile", str(profile / "installed"), "-n",
                    "--configfile", str(REPO / "config" / "paper.yaml"), workdir=tmp_path).stdout
    jobs = _jobs(out)
    training = [job for job in jobs if job["rule"] in ("pretrain_supervised", "pretrain_ssl", "finetune")]
    assert len(training) > 30
    expected = {"gpu": "1", "mem_mb": "64000", "runtime": "1440", "slurm_partition": "gpu", "slurm_account": "my_gpu_account"}
    for job in training:
        assert {key: job["resources"].get(key) for key in expected} == expected, job
    assert not any("gpu" in job["resources"] or "slurm_partition" in job["resources"] for job in jobs if job not in training)
    readme = (REPO / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.strip().startswith("| `pretrain_supervised`, `pretrain_ssl`, `finetune`"))
    for flag in ("--gpus=1", "--mem 64000", "-t 1440", "--cpus-per-task=15", "-p <slurm_partition>", "-A <slurm_account>"):
        assert flag in row, (flag, row)


def test_tables_4_and_5_give_one_gpu_job_per_training_run(tmp_path):
    """Table 4's runs are R3D-18 on 25k, Table 5's R(2+1)D-18 on 100k, every training job on one GPU."""
    out = snakemake("table4", "table5", *WITHOUT_CONDA, "-n", "--configfile", str(REPO / "config" / "paper.yaml"), workdir=tmp_path).stdout
    training = {job["output"]: job for job in _jobs(out) if job["output"].startswith("results/r")}
    expected = {f"results/r3d/seed0/pretrain/{init}/best.pt" for init in ("ssl_ucf101", "ssl_curated", "ssl_25k", "ssl_25k_then_balanced_focal")}
    expected |= {"results/r2plus1d/seed0/pretrain/ssl_100k/best.pt"}
    expected |= {f"results/r3d/seed0/finetune/ucf101/{init}/result.json" for init in ("scratch", "scratch_residual", "ssl_ucf101", "ssl_curated", "ssl_25k",
                                                                                      "ssl_25k_then_balanced_focal")}
    expected |= {f"results/r2plus1d/seed0/finetune/{dataset}/{init}/result.json" for dataset in ("ucf101", "hmdb51") for init in ("scratch", "ssl_100k")}
    assert set(training) == expected
    assert all(job["resources"]["gpu"] == "1" for job in training.values())
