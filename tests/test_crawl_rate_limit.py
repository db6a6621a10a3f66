"""The shared rate limit, measured as the server sees it: calls from several processes, counted in
every sliding window (not fixed windows, which hide a burst that straddles two of them)."""

from __future__ import annotations

import functools
import os
import random
import time

import pytest

from noisyactions.crawl.ratelimit import RateLimiter, parse_times
from noisyactions.crawl.ratelimit_load import call_times_under_load

BUDGET, WINDOW = 20, 2.0
PROCESSES, SECONDS = 3, 7.0


def _acquire_of_a_crawl_job(state, fsync_seconds):
    """The limiter of one crawl job. `fsync_seconds` makes fsync take up to that long, as on a loaded
    shared filesystem: whoever holds a lock across an fsync keeps the others waiting."""
    if fsync_seconds:
        real_fsync, rng = os.fsync, random.Random(os.getpid())
        os.fsync = lambda fd: (time.sleep(rng.uniform(0, fsync_seconds)), real_fsync(fd))[1]
    return RateLimiter(state, max_calls_per_hour=BUDGET * 3600 / WINDOW, window_seconds=WINDOW).acquire


def max_calls_in_any_window(times: list[float], window: float) -> int:
    """The most calls in any half-open window [t, t + window): the fullest one starts at a call."""
    return max((sum(t <= other < t + window for other in times) for t in times), default=0)


def test_max_calls_in_any_window_counts_sliding_windows():
    # Fixed 2-second windows [0, 2), [2, 4) hold 3 and 2 calls; the sliding window [1.5, 3.5) holds 4.
    assert max_calls_in_any_window([0.1, 1.5, 1.9, 2.0, 3.4, 5.0], 2.0) == 4
    assert max_calls_in_any_window([0.0, 2.0, 4.0], 2.0) == 1, "a call one window later is in the next window"


@pytest.mark.parametrize("fsync_seconds", [0.0, 0.1], ids=["local-disk", "slow-shared-fs"])
def test_rate_limit_never_exceeds_the_budget_in_any_sliding_window(tmp_path, fsync_seconds):
    """20 calls per 2 s shared by three processes calling as fast as allowed, for 7 s."""
    make_acquire = functools.partial(_acquire_of_a_crawl_job, tmp_path / "state.txt", fsync_seconds)
    times = call_times_under_load(make_acquire, PROCESSES, SECONDS, tmp_path)
    assert max_calls_in_any_window(times, WINDOW) <= BUDGET
    assert len(times) >= 3 * BUDGET, f"paced, not stalled: {len(times)} calls in {SECONDS} s"


def test_a_kill_mid_rewrite_leaves_a_state_that_only_counts_more(tmp_path):
    """The log is rewritten in place, then truncated: killed in between, the new lines are followed by
    the rest of the old ones, cut anywhere. What it reads must include every live call and no newer one."""
    now = time.time()
    old = "".join(f"{t!r}\n" for t in (now - 30, now - 20, now - 1.5, now - 0.5))
    new = "".join(f"{t!r}\n" for t in (now - 1.5, now - 0.5, now - 0.2))
    state = tmp_path / "state.txt"
    state.write_text(new + old[len(new):])
    limiter = RateLimiter(state, max_calls_per_hour=3 * 3600 / 2, window_seconds=2)
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.3, "three live calls fill the window until the oldest expires"
    assert max(parse_times(state.read_text())) <= time.time()


class SteppingClock:
    """time.time() that moves `step` seconds at every read, as if each step of acquire took that long."""

    def __init__(self, start: float, step: float):
        self.now, self.step = start, step

    def time(self) -> float:
        self.now += self.step
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("step", [0.001, 0.2], ids=["on-time", "always-late"])
def test_a_call_held_up_past_the_margin_is_recorded_again_in_place(tmp_path, monkeypatch, step):
    """Recorded, then held up for longer than the margin: the call is recorded again at the later
    time, replacing the first record (so a slow filesystem costs time, never budget), a bounded
    number of times."""
    import noisyactions.crawl.ratelimit as ratelimit

    clock = SteppingClock(1000.0, step)
    monkeypatch.setattr(ratelimit, "time", clock)
    state = tmp_path / "state.txt"
    limiter = RateLimiter(state, max_calls_per_hour=5 * 3600 / 2, window_seconds=2)
    limiter.acquire()
    times = parse_times(state.read_text())
    assert len(times) == 1
    records = 1 if step < limiter.margin else 1 + ratelimit.MAX_LATE_RECORDS
    assert times[0] == pytest.approx(1000.0 + (2 * records - 1) * step), "the last record is the one kept"
