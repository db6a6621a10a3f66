"""Seeded fault injection: the failures a week-long crawl of Flickr meets, on demand and repeatable.

Each request draws one number from a seeded generator; the configured rates split [0, 1) into
fault kinds, so the same seed and the same request order give the same faults.
"""

from __future__ import annotations

import random
import threading

REST_FAULTS = ("code_100", "code_105", "code_201", "code_1", "http_429", "http_5xx", "slow", "truncated")
"""Kinds, in the order their rates are stacked. `code_*` are `stat: fail` answers with that code."""
TRANSPORT_FAULTS = ("http_429", "http_5xx", "slow", "truncated")
"""The kinds that also hit play URLs and stills (a file download has no `stat`)."""

MESSAGES = {
    100: "Invalid API Key (Key has invalid format)",
    105: "Service currently unavailable",
    201: "API not available",
    1: "Photo not found",
}


class FaultInjector:
    def __init__(self, faults: dict):
        self.rates = {kind: float(faults.get(kind, 0.0)) for kind in REST_FAULTS}
        self.slow_seconds = float(faults.get("slow_seconds", 30))
        self._random = random.Random(faults.get("seed", 0))
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return any(self.rates.values())

    def draw(self, allowed: tuple[str, ...] = REST_FAULTS) -> str | None:
        """The fault for the next request, or None; kinds not in `allowed` become no fault."""
        if not self.active:
            return None
        with self._lock:
            u = self._random.random()
        edge = 0.0
        for kind in REST_FAULTS:
            edge += self.rates[kind]
            if u < edge:
                return kind if kind in allowed else None
        return None

    def server_error_status(self) -> int:
        """Which 5xx an `http_5xx` fault answers with."""
        with self._lock:
            return self._random.choice((500, 502, 503))
