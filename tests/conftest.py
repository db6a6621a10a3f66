"""Shared fixtures: a tiny embedded world built once per session, and servers over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from noisyactions.config import load_config
from noisyactions.world import build
from noisyactions.world.layout import WorldLayout

REPO = Path(__file__).resolve().parents[1]
TINY_CONFIG = REPO / "tests" / "config" / "tiny.yaml"


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
