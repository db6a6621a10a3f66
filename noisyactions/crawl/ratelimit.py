"""A rate limit shared by every process that uses one API key, through a file on a shared filesystem.

A sliding-window log: the state file holds the times of the calls in the last window; a process
takes an exclusive lock on it, drops expired times, and either records its call or learns how long
to wait. Limiting every `window` seconds to `max_calls_per_hour * window / 3600` calls bounds every
hour too, and paces a crawl instead of letting it burst (Flickr disables keys for abuse).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path


SAFETY_SECONDS = 0.05
"""Extra wait at a window's edge: a call leaves a few milliseconds after it is recorded, and the
server sees arrival times, so two calls exactly one window apart on our clock may not be on its."""


class RateLimiter:
    def __init__(self, state_path: Path, max_calls_per_hour: int, window_seconds: float = 60.0):
        self.state_path = Path(state_path)
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.window = float(window_seconds)
        self.budget = max(1, int(max_calls_per_hour * self.window / 3600))
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until a call fits in the budget, then record it."""
        while True:
            wait = self._try_record(time.time())
            if wait <= 0:
                return
            self.waited_seconds += wait
            time.sleep(wait)

    def _try_record(self, now: float) -> float:
        with open(self.state_path, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                text = handle.read()
                times = [t for t in (json.loads(text) if text.strip() else []) if t > now - self.window]
                if len(times) >= self.budget:
                    return min(times) + self.window + SAFETY_SECONDS - now
                times.append(now)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(times))
                handle.flush()
                os.fsync(handle.fileno())
                return 0.0
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
