"""The Flickr endpoint a crawl job talks to: the configured REST URL, or the embedded server started
for the job's lifetime (each job has its own; the rate limit is still shared through a file)."""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from noisyactions.crawl.credentials import Credentials
from noisyactions.flickr.server import EmbeddedFlickrServer
from noisyactions.world.layout import WorldLayout


SEARCH_DECIDING_SERVER_SETTINGS = ("result_cap", "max_page")
"""The embedded server's settings that change what a search returns (how many results a query
reaches, and the last page served). Host, port, key and faults do not: a fault is retried or stops
the crawl, it never changes an answer."""


def endpoint_identity(flickr: dict, world: dict) -> str:
    """Who answers the searches, for keying their results: the REST URL, or for the embedded server
    the world it serves (the same world config builds the same corpus; its port changes per job) and
    the server settings that decide its answers."""
    if flickr["rest_url"]:
        return flickr["rest_url"]
    server = {name: flickr["server"][name] for name in SEARCH_DECIDING_SERVER_SETTINGS}
    return "embedded " + json.dumps({"world": world, "server": server}, sort_keys=True)


@contextmanager
def flickr_endpoint(flickr: dict, world: dict, credentials: Credentials) -> Iterator[str]:
    if flickr["rest_url"]:
        yield flickr["rest_url"]
        return
    if not world["enabled"]:
        raise ValueError("flickr.rest_url is null (use the embedded server) but world.enabled is false: nothing to serve")
    # The embedded server accepts the key the crawler was given unless the config pins another one.
    server = {**flickr["server"], "api_key": flickr["server"]["api_key"] or credentials.key}
    with EmbeddedFlickrServer(WorldLayout(world["root"]), server) as running:
        yield running.rest_url
