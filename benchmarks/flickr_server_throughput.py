"""Search calls per second served by the embedded Flickr server on loopback.

The server runs in its own process (as the standalone `python -m noisyactions.flickr.server`), the
client in this one over keep-alive connections, so the figure is the server's, not the GIL's.
Target (issue 2): >= 500 search calls/s on the 2-core development machine.

    python benchmarks/flickr_server_throughput.py [--config config/config.yaml] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.config import load_config  # noqa: E402
from noisyactions.flickr.methods import SEARCH_EXTRAS  # noqa: E402
from noisyactions.world.concepts import build_concepts  # noqa: E402
from noisyactions.world.layout import WorldLayout  # noqa: E402


def measure(rest_url: str, queries: list[str], per_page: int, extras: str, seconds: float, connections: int) -> tuple[float, int]:
    url = urlsplit(rest_url)
    stop = time.monotonic() + seconds
    counts = [0] * connections
    failures = [0] * connections

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        for query in itertools.cycle(queries):
            if time.monotonic() > stop:
                break
            body = urlencode({
                "method": "flickr.photos.search", "api_key": "embedded-key", "text": query, "media": "videos",
                "per_page": per_page, "page": 1, "sort": "date-posted-asc", "extras": extras,
                "format": "json", "nojsoncallback": 1,
            })
            connection.request("POST", url.path, body, {"Content-Type": "application/x-www-form-urlencoded"})
            response = connection.getresponse()
            payload = response.read()
            if response.status != 200 or b'"stat":"ok"' not in payload:
                failures[slot] += 1
            counts[slot] += 1
        connection.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started), sum(failures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "config.yaml"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=2)
    args = parser.parse_args()
    config = load_config(args.config)
    layout = WorldLayout(config["world"]["root"])
    if not layout.web_metadata.exists():
        sys.exit(f"{layout.web_metadata} is missing: run `snakemake --cores 2 world` first")
    server = subprocess.Popen(
        [sys.executable, "-m", "noisyactions.flickr.server", "--config", args.config, "--port", "0"],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        rest_url = server.stdout.readline().split(" at ")[1].split(" ")[0]
        queries = [c.phrase for c in build_concepts(config["world"]["concepts"])]
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"world: {config['world']['web']['videos']} web videos, {len(queries)} queries; {args.connections} keep-alive connections")
        for per_page, extras in ((100, ""), (100, ",".join(SEARCH_EXTRAS)), (500, ",".join(SEARCH_EXTRAS))):
            rate, failures = measure(rest_url, queries, per_page, extras, args.seconds, args.connections)
            label = "all extras" if extras else "no extras"
            print(f"search per_page={per_page:<3} {label:<10}: {rate:8.0f} calls/s  ({failures} failed)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
