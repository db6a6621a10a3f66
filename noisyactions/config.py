"""Load and validate the workflow config against workflow/schemas/config.schema.yaml.

The same function serves the Snakefile (through common.smk), the tests, the benchmarks and the
standalone server, so every entry point accepts and rejects exactly the same configs. Errors are one
line that names the key, because a JSON-Schema dump is not what a user needs to fix a typo.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A config value that the schema or the file system rejects; the message names the key."""


def _key(path) -> str:
    return ".".join(str(part) for part in path) or "<top level>"


def _with_defaults(validator_class):
    """A validator that fills `default:` values (deep-copied, so the schema is never mutated)."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _path_keys(schema: dict, prefix: tuple = ()) -> Iterator[tuple]:
    """Keys whose schema says `x-existing-path: true`."""
    for name, subschema in schema.get("properties", {}).items():
        if subschema.get("x-existing-path"):
            yield prefix + (name,)
        yield from _path_keys(subschema, prefix + (name,))


def _lookup(config: dict, key: tuple) -> Any:
    for part in key:
        if not isinstance(config, dict) or part not in config:
            return None
        config = config[part]
    return config


def validate(config: dict, schema: str | Path = SCHEMA_PATH, source: str = "config") -> dict:
    """Validate `config` in place (defaults filled) and return it; raise ConfigError naming the key."""
    schema_dict = yaml.safe_load(Path(schema).read_text())
    validator = _with_defaults(jsonschema.Draft202012Validator)(schema_dict)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{source}: key {_key(e.absolute_path)}: {e.message}" for e in errors]
        raise ConfigError("invalid config\n  " + "\n  ".join(lines))
    _check_training(config, source)
    _check_noise_rates(config, source)
    for key in _path_keys(schema_dict):
        value = _lookup(config, key)
        if value is not None and not Path(value).exists():
            raise ConfigError(f"{source}: key {_key(key)}: path {value!r} does not exist")
    return config


def _check_training(config: dict, source: str) -> None:
    """What the schema cannot say about training: each table's split exists, and PCL's tuples can be
    built from the clip geometry in force (training.input's values, else the video section's)."""
    training = config.get("training")
    if not training:
        return
    splits = config.get("dataset", {}).get("splits", {}).get("sizes", {})
    for table, setup in training.get("tables", {}).items():
        if splits and setup["split"] not in splits:
            raise ConfigError(f"{source}: key training.tables.{table}.split: {setup['split']!r} is not a split of dataset.splits.sizes "
                              f"({', '.join(splits)})")
    geometry = {**config.get("video", {}), **{k: v for k, v in training.get("input", {}).items() if v is not None}}
    ssl = training.get("ssl", {})
    if ssl.get("clip_length") is None and geometry.get("clip_length", 4) < 4:
        raise ConfigError(f"{source}: key training.ssl.clip_length: null takes the training clip length, {geometry['clip_length']}, "
                          "but PCL's temporal shuffle needs clips of at least 4 frames")
    if geometry.get("crop", 0) % 2:
        key = "training.input.crop" if training.get("input", {}).get("crop") is not None else "video.crop"
        raise ConfigError(f"{source}: key {key}: {geometry['crop']} is odd; PCL's quadrant permutation needs an even crop")


def _check_noise_rates(config: dict, source: str) -> None:
    """Each noise rate names its noisy copy of UCF101 by whole percent (ucf101_noise40): two rates must not share one."""
    rates = config.get("robustness", {}).get("label_noise", {}).get("rates", [])
    percents = [round(rate * 100) for rate in rates]
    if len(set(percents)) != len(percents):
        raise ConfigError(f"{source}: key robustness.label_noise.rates: {rates} round to the same whole percent; give rates at least 1% apart")


def load_config(path: str | Path, overrides: dict | None = None) -> dict:
    """Read a YAML config, apply overrides (nested dicts merge), validate, return it."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    merge(config, overrides or {})
    return validate(config, source=str(path))


def merge(base: dict, update: dict) -> dict:
    """Merge `update` into `base` recursively, as Snakemake merges --configfile and --config."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base
