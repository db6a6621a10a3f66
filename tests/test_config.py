"""The config schema accepts both shipped configs and rejects bad ones with the key named."""

from __future__ import annotations

import pytest
import yaml

from noisyactions.config import ConfigError, load_config, validate

from conftest import REPO


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml", "claims.yaml", "noise_free_web.yaml"])
def test_shipped_configs_validate(name):
    config = load_config(REPO / "config" / "config.yaml", overrides=yaml.safe_load((REPO / "config" / name).read_text()))
    assert config["label"]
    assert config["world"]["video"]["width"] % 2 == 0


def test_defaults_are_filled_without_mutating_the_schema():
    first = validate({"label": "x", "world": {"enabled": True}, "flickr": {}})
    first["world"]["video"]["width"] = 640
    second = validate({"label": "x", "world": {"enabled": True}, "flickr": {}})
    assert second["world"]["video"]["width"] == 64
    assert second["flickr"]["server"]["result_cap"] == 4000


@pytest.mark.parametrize(
    "config, key, words",
    [
        ({"world": {"enabled": True, "bogus": 1}}, "key world:", "'bogus' was unexpected"),
        ({"world": {"enabled": True, "web": {"videos": "many"}}}, "key world.web.videos:", "not of type 'integer'"),
        ({"world": {"enabled": True, "video": {"width": 63}}}, "key world.video.width:", "multiple of 2"),
        ({"world": {"enabled": True}, "flickr": {"secrets_file": "/no/such/file.yaml"}}, "key flickr.secrets_file:", "does not exist"),
        ({"world": {"enabled": True}, "flickr": {"rest_url": "ftp://x"}}, "key flickr.rest_url:", "does not match"),
    ],
)
def test_bad_config_names_the_key(config, key, words):
    config = {"label": "x", "flickr": {}, **config}
    with pytest.raises(ConfigError) as error:
        validate(config)
    assert key in str(error.value) and words in str(error.value)


def test_unreadable_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("world: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML"):
        load_config(bad)


def test_paper_scale_takes_nothing_from_the_embedded_default():
    """config/paper.yaml is read on top of config/config.yaml (Snakemake merges --configfile), so every
    key the embedded default sets outside its world must be set again at paper scale: otherwise a paper
    run would train a 1/8-width model on 24-pixel clips for 4 epochs (it did, before this test)."""
    from noisyactions.config import merge

    default, paper = (yaml.safe_load((REPO / "config" / name).read_text()) for name in ("config.yaml", "paper.yaml"))
    merged = validate(merge(yaml.safe_load((REPO / "config" / "config.yaml").read_text()), paper), source="merged")
    alone = validate(yaml.safe_load((REPO / "config" / "paper.yaml").read_text()), source="paper.yaml")

    def leaves(tree: dict, prefix: tuple = ()):
        for key, value in tree.items():
            yield from leaves(value, prefix + (key,)) if isinstance(value, dict) else [(prefix + (key,), value)]

    embedded_only = {("world",), ("flickr", "server")}  # unused at paper scale: world.enabled false, a real REST URL
    leaked = [".".join(key) for key, value in leaves(merged) if not any(key[:len(p)] == p for p in embedded_only)
              and value != dict(leaves(alone)).get(key)]
    assert not leaked, f"config/paper.yaml inherits these embedded-world values: {leaked}"
    assert merged["training"]["repeats"] == 1 and merged["training"]["width"] == 1.0 and default["training"]["repeats"] == 3
