"""The shared rate limit, measured as the server sees it: calls from several processes, counted in
every sliding window (not fixed windows, which hide a burst that straddles two of them)."""

from __future__ import annotations

import functools
import os
import random
import time

import pytest

from noisyactions.crawl.ratelimit import RateLimiter, parse_times
from noisyactions.crawl.ratelimit_load import call_times_under_load, max_calls_in_any_window

BUDGET, WINDOW = 20, 2.0
PROCESSES, SECONDS = 3, 7.0
HELD_UP_SHARE = 0.3
"""Of the calls a process records, the share after which it is held up (see _acquire_of_a_crawl_job)."""


def _acquire_of_a_crawl_job(state, held_up_seconds):
    """The limiter of one crawl job. With `held_up_seconds`, the process is held up (descheduled on a
    busy node) for up to that long right after it recorded a call, before the call leaves: sent that
    late, a call recorded in one window can land in the next, so the limiter must record it again."""
    limiter = RateLimiter(state, max_calls_per_hour=BUDGET * 3600 / WINDOW, window_seconds=WINDOW)
    if held_up_seconds:
        try_record, rng = limiter._try_record, random.Random(os.getpid())

        def held_up_after_recording(replacing=None):
            recorded, wait = try_record(replacing)
            if wait == 0 and replacing is None and rng.random() < HELD_UP_SHARE:
                time.sleep(rng.uniform(0, held_up_seconds))
            return recorded, wait

        limiter._try_record = held_up_after_recording
    return limiter.acquire


def test_max_calls_in_any_window_counts_sliding_windows():
    # Fixed 2-second windows [0, 2), [2, 4) hold 3 and 2 calls; the sliding window [1.5, 3.5) holds 4.
    assert max_calls_in_any_window([0.1, 1.5, 1.9, 2.0, 3.4, 5.0], 2.0) == 4
    assert max_calls_in_any_window([5.0, 0.1, 2.0, 1.9, 3.4, 1.5], 2.0) == 4, "unsorted times"
    assert max_calls_in_any_window([0.0, 2.0, 4.0], 2.0) == 1, "a call one window later is in the next window"
    assert max_calls_in_any_window([1.0, 1.0, 1.0, 2.9], 2.0) == 4, "calls at the same time all count"
    assert max_calls_in_any_window([], 2.0) == 0


@pytest.mark.parametrize("held_up_seconds", [0.0, 0.3], ids=["on-time", "held-up-after-recording"])
def test_rate_limit_never_exceeds_the_budget_in_any_sliding_window(tmp_path, held_up_seconds):
    """20 calls per 2 s shared by three processes calling as fast as allowed, for 7 s."""
    make_acquire = functools.partial(_acquire_of_a_crawl_job, tmp_path / "state.txt", held_up_seconds)
    times = call_times_under_load(make_acquire, PROCESSES, SECONDS, tmp_path)
    assert max_calls_in_any_window(times, WINDOW) <= BUDGET
    assert len(times) >= 3 * BUDGET, f"paced, not stalled: {len(times)} calls in {SECONDS} s"


def log_of(*times: float) -> str:
    """A state file's text, as the limiter writes it."""
    return "".join(f"{t!r}\n" for t in times)


def test_a_kill_mid_rewrite_leaves_a_state_that_only_counts_more(tmp_path):
    """The log is rewritten in place, then truncated: killed in between, the new lines are followed by
    the rest of the old ones, which starts anywhere in a line (lines differ in length). Whatever piece
    of a line comes first, what is read holds every live call and counts no piece as one."""
    now = time.time()
    old_times, new_times = (now - 30, now - 20, now - 1.5, now - 0.5), (now - 1.5, now - 0.5, now - 0.2)
    old, new = log_of(*old_times), log_of(*new_times)
    limiter = RateLimiter(tmp_path / "state.txt", max_calls_per_hour=3 * 3600 / 2, window_seconds=2)
    for cut in range(len(new), len(old)):
        counted = [t for t in parse_times(new + old[cut:]) if t > now - limiter.span]
        assert set(new_times) <= set(counted) <= set(new_times + old_times), f"cut at {cut}: {old[cut:]!r}"
    half_a_live_line = old[old.rindex("\n", 0, len(old) - 1) + 8 :]  # the last old line (a live call's) from its 8th character
    assert "." in half_a_live_line and 0 < float(half_a_live_line) < now - limiter.span
    limiter.state_path.write_text(new + half_a_live_line)
    started = time.monotonic()
    limiter.acquire()
    assert time.monotonic() - started >= 0.3, "three live calls fill the window until the oldest expires"
    assert max(parse_times(limiter.state_path.read_text())) <= time.time()


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
