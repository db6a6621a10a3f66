"""Shared fixtures: a tiny embedded world built once per session, and servers over it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from noisyactions.config import load_config
from noisyactions.world import build
from noisyactions.world.layout import WorldLayout

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "tests" / "config" / "tiny.yaml"
SHARED = REPO.parent / "shared"
GPU_DEFAULTS = load_config(REPO / "config" / "config.yaml")["training"]["gpu"]  # training.gpu as the schema fills it in


def build_world(config: dict, root: Path) -> WorldLayout:
    """Every part of the world, through the same functions the Snakemake rules call."""
    world = dict(config["world"], root=str(root))
    layout = WorldLayout(root)
    build.write_web_metadata(world, layout.web_metadata)
    build.build_web_videos(world, layout.web_metadata, layout.web_videos, workers=2)
    build.write_class_lists(world, layout.class_lists)
    for name in ("ucf101", "hmdb51", "curated"):
        build.build_downstream(world, name, layout.downstream(name), workers=1)
    return layout


@pytest.fixture(scope="session")
def tiny_config() -> dict:
    return load_config(TINY_CONFIG)


@pytest.fixture(scope="session")
def tiny_world(tiny_config, tmp_path_factory) -> WorldLayout:
    return build_world(tiny_config, tmp_path_factory.mktemp("world"))


SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]


def deploy(workdir: Path) -> Path:
    """Lay `workdir` out like a deployed workflow: the config/ and slurm/ folders beside its outputs."""
    for folder in ("config", "slurm"):
        if not (workdir / folder).exists():
            (workdir / folder).symlink_to(REPO / folder)
    return workdir


def snakemake(*args: str, workdir: Path, check: bool = True, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh working directory laid out like a deployed workflow (`deploy`), outputs and
    .snakemake/ inside it (Snakemake locks its working directory)."""
    deploy(workdir)
    result = subprocess.run(
        [*SNAKEMAKE, *args],
        cwd=workdir, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """`snakemake dataset` on the tiny world: the crawl, then every dataset artefact. Shared by the
    modules that build on it (the tables in test_dataset.py, the paper in test_paper.py), so the
    world, crawl and caches are made once per session."""
    workdir = tmp_path_factory.mktemp("dataset")
    overrides = workdir / "overrides.yaml"
    overrides.write_text(yaml.safe_dump({"flickr": {"server": {"port": free_port()}}, "crawl": {"shard_size": 30}}))
    snakemake("dataset", "crawl", "cache", "--cores", "2", "--configfile", str(TINY_CONFIG), str(overrides), workdir=workdir)
    return workdir


def free_port() -> int:
    """A port nobody listens on now: crawls need a fixed one (see flickr.server.port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
