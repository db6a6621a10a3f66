"""The Flickr key and secret: read from the environment or a secrets file, never from the config.

Only the *names* of the variables (or the file) are in the config, so neither Snakemake's params,
its metadata nor any log can hold the key. `Credentials.__repr__` hides both values.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

EMBEDDED_CREDENTIALS = ("embedded-key", "embedded-secret")


class CredentialsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str

    def __repr__(self) -> str:
        return "Credentials(key=***, secret=***)"


def read_credentials(flickr: dict) -> Credentials:
    """secrets_file if set, else the environment variables; the embedded server needs neither."""
    if flickr.get("secrets_file"):
        path = Path(flickr["secrets_file"])
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as error:
            raise CredentialsError(f"flickr.secrets_file {path}: cannot read it ({type(error).__name__})") from None
        missing = [k for k in ("key", "secret") if not isinstance(data.get(k), str) or not data.get(k)]
        if missing:
            raise CredentialsError(f"flickr.secrets_file {path}: needs string entries {missing}")
        return Credentials(data["key"], data["secret"])
    key, secret = os.environ.get(flickr["key_env"]), os.environ.get(flickr["secret_env"])
    if key and secret:
        return Credentials(key, secret)
    if flickr.get("rest_url") is None:
        return Credentials(*EMBEDDED_CREDENTIALS)
    raise CredentialsError(
        f"no Flickr key: export {flickr['key_env']} and {flickr['secret_env']}, or set flickr.secrets_file "
        "to a YAML file with `key:` and `secret:`"
    )
