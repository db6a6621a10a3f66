"""The config schema accepts both shipped configs and rejects bad ones with the key named."""

from __future__ import annotations

import pytest
import yaml

from noisyactions.config import ConfigError, load_config, validate

from conftest import REPO


@pytest.mark.parametrize("name", ["config.yaml", "paper.yaml"])
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
