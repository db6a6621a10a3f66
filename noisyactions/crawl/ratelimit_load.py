"""Load a cross-process rate limiter the way crawl jobs do, and count its calls as a server would.

Used by the rate-limit test and benchmarks/rate_limiter.py: several processes acquire as fast as the
limiter lets them, each logging the time right after its acquire returns (when its request would be
sent); the sorted times are what a server would count, in every sliding window.
"""

from __future__ import annotations

import bisect
import multiprocessing
import time
from pathlib import Path
from typing import Callable

AcquireFactory = Callable[[], Callable[[], object]]
"""Builds, inside each process, the limiter's blocking acquire (picklable: a module-level function or
a functools.partial of one)."""


def _call_until_killed(make_acquire: AcquireFactory, log_path: Path) -> None:
    acquire = make_acquire()
    with open(log_path, "a") as log:
        while True:
            acquire()
            log.write(f"{time.time()!r}\n")
            log.flush()


def call_times_under_load(make_acquire: AcquireFactory, processes: int, seconds: float, folder: Path) -> list[float]:
    """Run `processes` processes calling through the limiter for `seconds`, then kill them; every call's time, sorted."""
    logs = [Path(folder) / f"calls-{k}.txt" for k in range(processes)]
    workers = [multiprocessing.Process(target=_call_until_killed, args=(make_acquire, log), daemon=True) for log in logs]
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    for worker in workers:
        worker.kill()
        worker.join()
    return sorted(float(line) for log in logs if log.exists() for line in log.read_text().split())


def max_calls_in_any_window(times: list[float], window: float) -> int:
    """The most calls in any half-open window [t, t + window): the fullest one starts at a call.
    Sliding, not fixed windows, which hide a burst that straddles two of them."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)
