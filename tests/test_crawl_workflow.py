"""The crawl as users run it (`snakemake crawl download`) against the embedded server: faults,
kills, bad keys and leaked secrets must not change or lose anything."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
import yaml

from conftest import REPO, TINY_CONFIG, free_port, snakemake

TARGETS = ("crawl", "download")
FAST_RETRIES = {"backoff_base_seconds": 0.01, "backoff_max_seconds": 0.05, "max_retries": 10, "timeout_seconds": 2}


def write_overrides(workdir, port, crawl=None, faults=None, server=None) -> str:
    overrides = {
        "flickr": {"server": {"port": port, "faults": faults or {}, **(server or {})}},
        "crawl": {"shard_size": 30, **FAST_RETRIES, **(crawl or {})},
    }
    path = workdir / "overrides.yaml"
    path.write_text(yaml.safe_dump(overrides))
    return str(path)


def run_crawl(workdir, port, *extra, check=True, env=None, **overrides):
    config = write_overrides(workdir, port, **overrides)
    return snakemake(*TARGETS, "--cores", "2", *extra, "--configfile", str(TINY_CONFIG), config, workdir=workdir, check=check, env=env)


def tables(workdir):
    return pq.read_table(workdir / "results" / "crawl" / "metadata.parquet"), pq.read_table(workdir / "results" / "download" / "videos.parquet")


@pytest.fixture(scope="module")
def port():
    return free_port()


@pytest.fixture(scope="module")
def clean_crawl(tmp_path_factory, port):
    """The fault-free, uninterrupted crawl every other run must reproduce."""
    workdir = tmp_path_factory.mktemp("clean")
    run_crawl(workdir, port)
    return workdir


def test_clean_crawl_collects_every_video_once(clean_crawl, tiny_config):
    metadata, downloads = tables(clean_crawl)
    world = pq.read_table(clean_crawl / "resources" / "world" / "web" / "metadata.parquet")
    ids = metadata.column("photo_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) <= set(world.column("photo_id").to_pylist())
    assert set(metadata.column("status").to_pylist()) == {"ok"}
    assert set(downloads.column("status").to_pylist()) == {"ok"}
    # multi-labels: some videos were found by several queries
    assert max(len(c) for c in metadata.column("concepts").to_pylist()) > 1
    report = (clean_crawl / "results" / "crawl" / "report.json").read_text()
    assert '"calls_per_collected_video"' in report and "embedded synthetic world" in report


def test_faults_change_nothing(clean_crawl, tmp_path, port):
    faults = {"seed": 3, "code_105": 0.04, "code_201": 0.04, "http_429": 0.04, "http_5xx": 0.04, "slow": 0.02, "truncated": 0.04, "slow_seconds": 3}
    run_crawl(tmp_path, port, faults=faults)
    expected, expected_downloads = tables(clean_crawl)
    got, got_downloads = tables(tmp_path)
    assert got.equals(expected)
    assert got_downloads.drop(["path"]).equals(expected_downloads.drop(["path"]))
    report = yaml.safe_load((tmp_path / "results" / "crawl" / "report.json").read_text())
    assert sum(report["retries_by_reason"].values()) > 0, "the faults were injected and retried"


def test_sigkill_at_random_points_then_resume(clean_crawl, tmp_path, port):
    config = write_overrides(tmp_path, port)
    for folder in ("config", "slurm"):
        (tmp_path / folder).symlink_to(REPO / folder)
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), *TARGETS, "--cores", "2", "--rerun-incomplete",
               "--configfile", str(TINY_CONFIG), config]
    rng = random.Random(7)
    for _ in range(3):
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(2.0, 6.0))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        snakemake("--unlock", "--configfile", str(TINY_CONFIG), config, workdir=tmp_path)
    run_crawl(tmp_path, port, "--rerun-incomplete")
    expected, expected_downloads = tables(clean_crawl)
    got, got_downloads = tables(tmp_path)
    assert got.equals(expected)
    assert got_downloads.drop(["path"]).equals(expected_downloads.drop(["path"]))


def test_invalid_key_stops_at_once_and_marks_nothing_done(tmp_path, port):
    started = time.monotonic()
    result = run_crawl(tmp_path, port, check=False, server={"api_key": "the-only-valid-key"},
                       env={"FLICKR_API_KEY": "a-wrong-key", "FLICKR_API_SECRET": "x"})
    assert result.returncode != 0
    assert "rejected the API key" in result.stdout + result.stderr
    assert time.monotonic() - started < 60
    assert not list((tmp_path / "results").rglob("*_stats.json"))


def test_secrets_never_reach_outputs_or_logs(tmp_path, port):
    key, secret = "sk-9f8e7d6c5b4a-never-print", "ss-1a2b3c4d5e6f-never-print"
    run_crawl(tmp_path, port, env={"FLICKR_API_KEY": key, "FLICKR_API_SECRET": secret})
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(written) > 50
    for path in written:
        data = path.read_bytes()
        assert key.encode() not in data and secret.encode() not in data, path


def test_retry_failures_fetches_only_what_failed(clean_crawl, tmp_path, port):
    # Search cleanly, then fetch with no retries and frequent 5xx: some records fail (a search that
    # fails for good fails its job instead, to resume from its journal); retry_failures repairs them.
    config = write_overrides(tmp_path, port)
    snakemake("crawl_plan", "--cores", "1", "--configfile", str(TINY_CONFIG), config, workdir=tmp_path)
    run_crawl(tmp_path, port, "--rerun-triggers", "mtime", crawl={"max_retries": 0}, faults={"seed": 1, "http_5xx": 0.15})
    metadata, _ = tables(tmp_path)
    failed = metadata.column("status").to_pylist().count("failed")
    assert failed > 0
    shard_before = {p.name: p.read_bytes() for p in (tmp_path / "results" / "crawl" / "metadata").glob("*.parquet")}
    config = write_overrides(tmp_path, port)
    snakemake("retry_failures", "--cores", "1", "--rerun-triggers", "mtime", "--configfile", str(TINY_CONFIG), config, workdir=tmp_path)
    log = (tmp_path / "logs" / "crawl" / "retry_failures.log").read_text()
    assert f"'metadata': {failed}" in log
    run_crawl(tmp_path, port, "--rerun-triggers", "mtime")
    expected, expected_downloads = tables(clean_crawl)
    got, got_downloads = tables(tmp_path)
    assert got.equals(expected)
    # Downloads that hit a 5xx with no retries fell back to the next preferred size: same videos, all ok.
    assert got_downloads.column("photo_id").equals(expected_downloads.column("photo_id"))
    assert set(got_downloads.column("status").to_pylist()) == {"ok"}
    unchanged = [name for name, data in shard_before.items() if b"failed" not in data]
    for name in unchanged:
        assert (tmp_path / "results" / "crawl" / "metadata" / name).read_bytes() == shard_before[name]


def test_changed_queries_rerun_the_plan(clean_crawl, tmp_path, port):
    """Snakemake reruns crawl_plan when crawl.queries changes, though the search journal it resumes
    from is no output (what it then plans: test_crawl_search_journal.py). Dry runs: nothing is crawled."""
    (tmp_path / "other.txt").write_text("Breaststroke\nThrowDiscus\n")

    def plans_again(**crawl) -> bool:
        config = write_overrides(tmp_path, port, crawl=crawl)  # beside, not in, the clean crawl's working directory
        result = snakemake("crawl_plan", "--dry-run", "--cores", "1", "--configfile", str(TINY_CONFIG), config, workdir=clean_crawl)
        return "checkpoint crawl_plan:" in result.stdout + result.stderr

    assert not plans_again(), "the clean crawl's own config: nothing to do"
    assert plans_again(queries=[{"path": str(tmp_path / "other.txt")}])
