"""A rate limit shared by every process that uses one API key, through a file on a shared filesystem.

A sliding-window log: the state file holds the times of the calls in the last window, one per line;
a process takes an exclusive lock on it, drops expired times, and either records its call or learns
how long to wait. Limiting every `window` seconds to `max_calls_per_hour * window / 3600` calls
bounds every hour too, and paces a crawl instead of letting it burst (Flickr disables keys for abuse).

What makes it exact rather than "about right" in every sliding window:
- the call's time is read after the lock is taken, and the call leaves as soon as it is recorded:
  a time read before waiting for the lock is older than the call by that wait (another process's
  whole turn), so one window later a call would be let through too early;
- nothing slow happens in the lock: no fsync (the state only matters for one window, so surviving a
  machine crash buys nothing, and every millisecond in the lock delays every other process) and no
  rename (ext4 flushes data on a rename over a file); the log is rewritten in place, new content
  first, then truncated, so a process killed in between leaves extra old lines, which can only
  make the others wait longer;
- a call counts for `window + margin`, in the check as well as in the wait, so the gap between
  recording a call and its request reaching the server (and clock skew between the hosts that
  share the file) cannot put two calls one window apart on our clock into one window on the server's;
  a process held up for longer than the margin after recording (descheduled on a busy node) records
  its call again, in place of the stale time, rather than sending it late.

benchmarks/rate_limiter.py measures it against pyrate-limiter's SQLite bucket: this one is cheaper
per call and holds the budget where that one, which reads the clock before taking its lock, goes over.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

MARGIN_SECONDS = 0.05
"""How long a recorded call still counts after its window: covers the time from recording a call to
its request arriving (and NTP-level clock skew between hosts sharing the state)."""

MAX_LATE_RECORDS = 3
"""How many times one call is recorded again because its process was held up past the margin."""


class RateLimiter:
    def __init__(self, state_path: Path, max_calls_per_hour: float, window_seconds: float = 60.0, margin_seconds: float = MARGIN_SECONDS):
        self.state_path = Path(state_path)
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self.window = float(window_seconds)
        self.margin = margin_seconds
        self.span = self.window + margin_seconds
        self.budget = max(1, int(max_calls_per_hour * self.window / 3600))
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        """Block until a call fits in the budget, then record it; make the call right after."""
        stale, late = None, 0
        while True:
            recorded, wait = self._try_record(replacing=stale)
            if wait > 0:
                self.waited_seconds += wait
                time.sleep(wait)
            elif time.time() - recorded <= self.margin or late == MAX_LATE_RECORDS:
                return
            else:
                # Held up (descheduled) for longer than the margin since the call was recorded: sent
                # now, it could land in a window that counts it too early. Record it again, in place of
                # the stale time; a bounded number of times, so a filesystem slower than the margin
                # slows calls down instead of stopping them.
                stale, late = recorded, late + 1

    def _try_record(self, replacing: float | None = None) -> tuple[float, float]:
        """(now, 0) with a call recorded now (instead of the one recorded at `replacing`), or (now,
        how long until one fits)."""
        with os.fdopen(os.open(self.state_path, os.O_RDWR | os.O_CREAT, 0o644), "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, a killed process's included
            now = time.time()
            handle.seek(0)
            times = sorted(t for t in parse_times(handle.read()) if t > now - self.span)
            if replacing in times:
                times.remove(replacing)
            if len(times) >= self.budget:
                return now, times[len(times) - self.budget] + self.span - now
            times.append(now)
            handle.seek(0)
            handle.write("".join(f"{t!r}\n" for t in times))
            handle.truncate()
            return now, 0.0


def parse_times(text: str) -> list[float]:
    """The call times in a state file. A kill mid-rewrite leaves a piece of an old line: either not a
    number (skipped) or a number far smaller than any time in the window (expired)."""
    times = []
    for line in text.splitlines():
        try:
            times.append(float(line))
        except ValueError:
            continue
    return times
