"""`snakemake --profile slurm` end to end on a real single-node SLURM cluster (slurm/ci/start-cluster.sh:
munge, slurmctld, slurmd, slurmdbd with MariaDB), against a local run of the same targets.

One run covers what a cluster does to a workflow: the crawl's two shards run as two jobs at once under one
rate budget; a training job is cancelled mid-run (as a user or an admin would) and the workflow recovers by
submitting it again; that job is requeued mid-run (as preemption or a node failure would) and SLURM runs it
again; both times the training resumes from its checkpoint. Needs root and Debian's SLURM
packages (`.ci/run` installs them); elsewhere it skips, and under CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SNAKEMAKE, TINY_CONFIG, deploy, free_port, snakemake
from noisyactions.crawl.ratelimit_load import max_calls_in_any_window

CLUSTER_SCRIPTS = REPO / "slurm" / "ci"
TRAINING = "results/r3d/seed0/pretrain/25k_cce"
TARGETS = ("crawl", f"{TRAINING}/best.pt")
CALLS_PER_WINDOW, WINDOW_SECONDS = 20, 2
# The profile as a user runs it, plus: this environment instead of conda, threads capped at the node's
# two CPUs (world_web_videos asks for 8), and status checks every few seconds instead of 40.
CLUSTER_FLAGS = ("--profile", "slurm", "--profile", "slurm/installed", "--max-threads", "2",
                 "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A cluster for this module's tests, stopped after them; needs what `start-cluster.sh --check` asks for."""
    check = subprocess.run(["bash", str(CLUSTER_SCRIPTS / "start-cluster.sh"), "--check"], capture_output=True, text=True)
    if check.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(check.stdout + check.stderr)
        pytest.skip(check.stdout.strip().replace("\n", "; "))
    state = tmp_path_factory.mktemp("slurm")
    try:
        started = subprocess.run(["bash", str(CLUSTER_SCRIPTS / "start-cluster.sh"), str(state)], capture_output=True, text=True, timeout=300)
        if started.returncode != 0:
            logs = "\n".join(f"--- {log.name}\n{log.read_text()[-2000:]}" for log in sorted((state / "log").glob("*")))
            pytest.fail(f"start-cluster.sh failed:\n{started.stderr}\n{logs}")
        yield {"env": {"SLURM_CONF": str(state / "etc" / "slurm.conf")}, "startup_seconds": float((state / "startup_seconds").read_text())}
    finally:
        daemons = [line.split() for line in (state / "pids").read_text().splitlines()] if (state / "pids").exists() else []
        stopped = subprocess.run(["bash", str(CLUSTER_SCRIPTS / "stop-cluster.sh"), str(state)], capture_output=True, text=True, timeout=180)
        alive = [f"{name} {pid}" for name, pid in daemons if Path(f"/proc/{pid}").exists()]
        assert stopped.returncode == 0 and not alive, f"left running: {alive}\n{stopped.stderr}"


def _overrides(workdir: Path, port: int) -> Path:
    """The tiny world with two crawl shards, a tight shared budget (20 calls per 2 s, where each shard alone
    would make ~80 calls in well under a second) and a pretraining long enough to cancel mid-run."""
    path = workdir / "overrides.yaml"
    path.write_text(yaml.safe_dump({
        "flickr": {"server": {"port": port, "call_log": str(workdir / "calls.log")}},
        "crawl": {"shard_size": 40, "max_calls_per_hour": CALLS_PER_WINDOW * 3600 // WINDOW_SECONDS, "rate_window_seconds": WINDOW_SECONDS},
        "training": {"pretrain": {"epochs": 150}},
    }))
    return path


def _slurm(*args: str, env: dict) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, env={**os.environ, **env}, timeout=60).stdout


def _wait_for(what: str, condition, run: subprocess.Popen, workdir: Path, seconds: float = 900):
    """Poll `condition` until it gives something true, while the workflow runs."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if found := condition():
            return found
        if run.poll() is not None:
            break
        time.sleep(0.2)
    pytest.fail(f"no {what} (snakemake: {run.poll()}):\n{(workdir / 'snakemake.log').read_text()[-3000:]}")


def _running_training_job(env: dict) -> str | None:
    jobs = _slurm("squeue", "--noheader", "--format=%i|%k|%T", env=env).splitlines()
    return next((line.split("|")[0] for line in jobs if "rule_pretrain_supervised" in line and line.endswith("|RUNNING")), None)


def _resumed_epochs(workdir: Path) -> list[int]:
    log = workdir / "logs/r3d/seed0/pretrain/25k_cce.log"
    return [int(epoch) for epoch in re.findall(r"resuming from \S+checkpoint.pt at epoch (\d+)", log.read_text())] if log.exists() else []


def _epochs_done(workdir: Path) -> int:
    metrics = workdir / TRAINING / "metrics.csv"
    return len(metrics.read_text().splitlines()) - 1 if metrics.exists() else 0


def _interrupt_the_training_twice(workdir: Path, run: subprocess.Popen, env: dict) -> tuple[str, str, int]:
    """Cancel the pretraining's job once it has a checkpoint (the workflow must submit it again), then
    requeue that second job once it has resumed and trained another epoch (SLURM must restart it). Returns
    both jobs and the epoch the first resume started at (the requeued run's log replaces that one's)."""
    _wait_for("checkpoint", lambda: (workdir / TRAINING / "checkpoint.pt").exists(), run, workdir)
    cancelled = _running_training_job(env)
    assert cancelled, "the pretraining finished before it could be cancelled"
    _slurm("scancel", cancelled, env=env)
    resumed_at = _wait_for("resumed second job", lambda: _resumed_epochs(workdir) and _running_training_job(env) not in (None, cancelled)
                           and _resumed_epochs(workdir)[0], run, workdir)
    _wait_for("epoch after the resume", lambda: _epochs_done(workdir) > resumed_at, run, workdir)
    requeued = _running_training_job(env)
    assert requeued and requeued != cancelled, "the resumed pretraining finished before it could be requeued"
    _slurm("scontrol", "requeue", requeued, env=env)
    return cancelled, requeued, resumed_at


RUN_ACCOUNTING = ("seconds", "calls", "retries")  # keys of the crawl's and download's stats that depend on the run, not the data


def _without_timings(path: Path) -> bytes:
    """A file's bytes, less what differs between any two runs: in the crawl's and the download's stats and
    reports, wall-clock seconds, and the calls and retries behind the data. Jobs running at once each serve
    the embedded API on one shared port, and the kernel hands a connection to any of them: a job's server
    stopping with its job closes another job's client's connection, which is retried (one call more, the
    same data). A Markdown report is compared through its JSON twin, which holds the same figures."""
    if path.suffix == ".json":
        def strip(value):
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if not any(word in k for word in RUN_ACCOUNTING)}
            return [strip(v) for v in value] if isinstance(value, list) else value
        return json.dumps(strip(json.loads(path.read_text())), sort_keys=True).encode()
    if path.suffix == ".md" and path.with_suffix(".json").exists():
        return _without_timings(path.with_suffix(".json"))
    return path.read_bytes()


NOT_OUTPUTS = {"resources/flickr_rate_limit.txt",  # the rate limiter's state: call times
               f"{TRAINING}/checkpoint.pt"}  # the resume file; what it resumes to, best.pt and metrics.csv, is compared


def _compare_outputs(local: Path, cluster: Path) -> tuple[int, list[str]]:
    """Every file under results/ and resources/ of the two runs: the same names, the same bytes (less
    timings). Returns how many files were compared and which differed only in their timings."""
    files = {root: {p.relative_to(root).as_posix() for top in ("results", "resources") for p in (root / top).rglob("*") if p.is_file()}
             for root in (local, cluster)}
    assert files[local] == files[cluster], f"only local: {sorted(files[local] - files[cluster])}, only on SLURM: {sorted(files[cluster] - files[local])}"
    compared = sorted(files[local] - NOT_OUTPUTS)
    differ = [name for name in compared if _without_timings(local / name) != _without_timings(cluster / name)]
    assert not differ, f"outputs differ between the local and the SLURM run: {differ}"
    timings = [name for name in compared if (local / name).read_bytes() != (cluster / name).read_bytes()]
    return len(compared), timings


def _call_times(workdir: Path) -> list[float]:
    """When the embedded servers got each REST call (every job runs one on the same port, and the kernel
    hands a connection to any of them, so the log's process is the server's, not the caller's)."""
    return sorted(float(line.split()[0]) for line in (workdir / "calls.log").read_text().splitlines())


def test_the_profile_runs_the_workflow_on_a_real_cluster_like_a_local_run(cluster, tmp_path):
    port = free_port()
    local, remote = tmp_path / "local", tmp_path / "slurm"
    local.mkdir()
    remote.mkdir()
    snakemake(*TARGETS, "--cores", "2", "--configfile", str(TINY_CONFIG), str(_overrides(local, port)), workdir=local, timeout=900)

    overrides = _overrides(deploy(remote), port)
    started = time.time()
    with open(remote / "snakemake.log", "w") as log:
        run = subprocess.Popen([*SNAKEMAKE, *TARGETS, *CLUSTER_FLAGS, "--configfile", str(TINY_CONFIG), str(overrides)],
                               cwd=remote, stdout=log, stderr=subprocess.STDOUT, text=True, env={**os.environ, **cluster["env"], "PYTHONUNBUFFERED": "1"})
        try:
            cancelled, requeued, first_resume = _interrupt_the_training_twice(remote, run, cluster["env"])
            run.wait(timeout=900)
        finally:
            if run.poll() is None:
                run.terminate()
                run.wait(timeout=120)
    wall = time.time() - started
    log = (remote / "snakemake.log").read_text()
    assert run.returncode == 0, log[-5000:]

    # the cancelled job was seen as failed and submitted again; that job, requeued by SLURM, ran again;
    # each time the training resumed from its checkpoint, further along
    assert f"SLURM-job '{cancelled}' failed, SLURM status is: 'CANCELLED'" in log
    resumed = [first_resume, *_resumed_epochs(remote)]
    assert len(resumed) == 2 and 1 <= resumed[0] < resumed[1], resumed

    # every job went through SLURM: all completed but the cancelled one; the GPU job got its GPU and memory
    sacct = _slurm("sacct", "--duplicates", "-X", "--parsable2", "--noheader", "--format=JobIdRaw,Comment,State,AllocTRES,Start,End,Elapsed",
                   env=cluster["env"])
    jobs = [dict(zip(("id", "rule", "state", "tres", "start", "end", "elapsed"), line.split("|"))) for line in sacct.splitlines()]
    assert [(job["id"], job["state"].split()[0]) for job in jobs if job["state"] != "COMPLETED"] == [(cancelled, "CANCELLED"), (requeued, "REQUEUED")], sacct
    training = [job for job in jobs if job["rule"].startswith("rule_pretrain_supervised")]
    assert [(job["id"], job["state"].split()[0]) for job in training] == [(cancelled, "CANCELLED"), (requeued, "REQUEUED"), (requeued, "COMPLETED")], sacct
    assert all("gres/gpu=1" in job["tres"] and "mem=62.50G" in job["tres"] for job in training if job["tres"]), sacct
    shards = [job for job in jobs if job["rule"].startswith("rule_crawl_shard")]
    assert len(shards) == 2 and max(job["start"] for job in shards) < min(job["end"] for job in shards), f"the shards did not run at once:\n{sacct}"

    # the two shard jobs, running at once, kept to the shared budget as the servers counted their calls,
    # and pressed against it (each alone would make ~80 calls in well under a second)
    busiest = max_calls_in_any_window(_call_times(remote), WINDOW_SECONDS)
    assert CALLS_PER_WINDOW // 2 < busiest <= CALLS_PER_WINDOW

    compared, timings = _compare_outputs(local, remote)
    print(f"cluster up in {cluster['startup_seconds']:.1f} s; SLURM run {wall:.0f} s, {len(jobs)} job runs; cancelled job {cancelled}, "
          f"its resubmission {requeued} resumed at epoch {resumed[0]}, requeued and resumed at epoch {resumed[1]}; busiest {WINDOW_SECONDS} s window: {busiest} calls (budget {CALLS_PER_WINDOW}); "
          f"{compared} files identical to the local run ({len(timings)} after dropping timings: {', '.join(timings)})\n{sacct}")
