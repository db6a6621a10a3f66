"""Retry with exponential back-off and full jitter: one policy for API calls and file downloads.

Kept rather than tenacity, which does the same full-jitter wait (wait_random_exponential) in as many
lines: here a failure is classified once into the reason that both decides the retry and is counted
for the report (tenacity asks twice: its retry predicate and a before_sleep hook), the jitter comes
from an injected random generator (tenacity draws from the global one), and running out of retries
raises the one exception the callers turn into a `failed` status (tenacity wraps it in RetryError).
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from typing import Callable, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetriesExhausted(RuntimeError):
    """Transient failures `max_retries + 1` times in a row; the item is recorded as failed."""


class RetryPolicy:
    def __init__(self, max_retries: int, base_seconds: float, max_seconds: float, sleep=time.sleep, rng: random.Random | None = None):
        self.max_retries, self.base_seconds, self.max_seconds = max_retries, base_seconds, max_seconds
        self.retries: Counter[str] = Counter()
        self._sleep, self._rng = sleep, rng or random.Random()

    @classmethod
    def from_config(cls, crawl: dict) -> "RetryPolicy":
        return cls(crawl["max_retries"], crawl["backoff_base_seconds"], crawl["backoff_max_seconds"])

    def run(self, attempt: Callable[[], T], transient_reason: Callable[[Exception], str | None], what: str) -> T:
        """Call `attempt` until it succeeds; errors whose reason is None are raised at once."""
        for tries in range(self.max_retries + 1):
            try:
                return attempt()
            except Exception as error:  # noqa: BLE001 (classified right here)
                reason = transient_reason(error)
                if reason is None:
                    raise
            if tries == self.max_retries:
                raise RetriesExhausted(f"{what}: {reason} after {tries + 1} attempts")
            self.retries[reason] += 1  # counted when a retry follows: the report's retries_by_reason
            delay = self._rng.uniform(0, min(self.max_seconds, self.base_seconds * 2**tries))
            log.info("%s: %s, retry %d in %.2fs", what, reason, tries + 1, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")
