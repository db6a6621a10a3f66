"""The crawl's cross-process rate limiter against pyrate-limiter's SQLite bucket (file-locked, the
library's multi-process setup): what each costs per call, and whether each holds its budget.

1. cost: one process, a budget it never reaches, 200 acquisitions into a fresh state (a log of up
   to 200 calls, about what Flickr's 3,600 calls/hour in 60-s windows keeps: 60): microseconds per call.
2. budget: several processes calling as fast as allowed through one shared state file, for a few
   windows; every call's time is logged right after its acquire returns (when the request would
   leave), and the most calls in any sliding window is compared with the budget.

    python benchmarks/rate_limiter.py [--budget 20] [--window 2] [--processes 3] [--seconds 8]

pyrate-limiter is not a dependency of the project: `pip install pyrate-limiter` to compare.
"""

from __future__ import annotations

import argparse
import atexit
import functools
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from noisyactions.crawl.ratelimit import RateLimiter  # noqa: E402
from noisyactions.crawl.ratelimit_load import call_times_under_load, max_calls_in_any_window  # noqa: E402


def ours(state: Path, budget: int, window: float):
    """(acquire, close) for a limiter of `budget` calls per `window` seconds sharing `state`."""
    limiter = RateLimiter(state / "state.txt", max_calls_per_hour=budget * 3600 / window, window_seconds=window)
    return limiter.acquire, lambda: None


def pyrate(state: Path, budget: int, window: float):
    from pyrate_limiter import limiter_factory

    limiter = limiter_factory.create_sqlite_limiter(
        budget, int(window * 1000), db_path=str(state / "pyrate.sqlite"), use_file_lock=True, buffer_ms=50
    )
    return (lambda: limiter.try_acquire("flickr", blocking=True)), limiter.close


LIMITERS = {"ours (flock, log rewritten in place)": ours, "pyrate-limiter 4 (SQLite + filelock)": pyrate}


def cost_per_call(make, calls: int, states: int, root: Path) -> float:
    spent = 0.0
    for _ in range(states):
        acquire, close = make(Path(tempfile.mkdtemp(dir=root)), 10**9, 3600.0)
        started = time.perf_counter()
        for _ in range(calls):
            acquire()
        spent += time.perf_counter() - started
        close()
    return spent / (calls * states)


def acquire_of(make, state: Path, budget: int, window: float):
    return make(state, budget, window)[0]


def calls_under_budget(make, budget: int, window: float, processes: int, seconds: float, root: Path) -> list[float]:
    state = Path(tempfile.mkdtemp(dir=root))
    make(state, budget, window)[1]()  # create the shared state before the processes race to
    return call_times_under_load(functools.partial(acquire_of, make, state, budget, window), processes, seconds, state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=20, help="calls allowed per window")
    parser.add_argument("--window", type=float, default=2.0, help="seconds")
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="how long the processes call")
    parser.add_argument("--repeats", type=int, default=3, help="budget runs per limiter")
    parser.add_argument("--cost-calls", type=int, default=200, help="acquisitions per fresh state when measuring the cost")
    parser.add_argument("--cost-states", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; state in {tempfile.gettempdir()}")
    # One folder for the whole run, removed at exit: pyrate-limiter's leak thread outlives close().
    root = Path(tempfile.mkdtemp(prefix="rate-limiter-bench-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name, make in LIMITERS.items():
        try:
            seconds = cost_per_call(make, args.cost_calls, args.cost_states, root)
        except ImportError as error:
            print(f"{name}: skipped ({error}); pip install pyrate-limiter to compare")
            continue
        worst, counts = 0, []
        for _ in range(args.repeats):
            times = calls_under_budget(make, args.budget, args.window, args.processes, args.seconds, root)
            worst = max(worst, max_calls_in_any_window(times, args.window))
            counts.append(len(times))
        print(f"{name}: {seconds * 1e6:.0f} us per acquire ({1 / seconds:,.0f} calls/s, one process); "
              f"{args.processes} processes at {args.budget} per {args.window:g} s for {args.seconds:g} s, {args.repeats} runs: "
              f"max {worst} calls in any {args.window:g}-s window (budget {args.budget}), {counts} calls")


if __name__ == "__main__":
    main()
