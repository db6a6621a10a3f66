"""Which frames make a clip (paper Sec. 5).

Training: T consecutive frames at a temporal skip; pretraining draws the skip from 1..max_skip and
reduces it until the clip fits the video (the authors' rule), fine-tuning uses skip 1. A video
shorter than a clip is padded by repeating its last frame. Test: every clip of a video, as
non-overlapping windows or N uniformly spaced clips; the video's prediction averages them.
"""

from __future__ import annotations

import numpy as np


def random_start_and_skip(num_frames: int, length: int, max_skip: int, rng: np.random.Generator) -> tuple[int, int]:
    """Where a random window of `length` frame steps starts and its temporal skip: the skip drawn from
    1..max_skip, then lowered until the window fits (0 and the lowest skip when nothing fits). Shared by
    training clips and PCL's clip tuples, so both draw alike from the same generator."""
    if num_frames < 1:
        raise ValueError("a video needs at least one frame")
    skip = int(rng.integers(1, max_skip + 1))
    if length > 1:  # the largest skip that fits, as the authors' loop that lowers it one by one finds
        skip = max(1, min(skip, (num_frames - 1) // (length - 1)))
    span = (length - 1) * skip + 1
    start = int(rng.integers(0, num_frames - span + 1)) if span <= num_frames else 0
    return start, skip


def training_clip(num_frames: int, length: int, max_skip: int, rng: np.random.Generator) -> np.ndarray:
    """Frame indices of one random training clip."""
    start, skip = random_start_and_skip(num_frames, length, max_skip, rng)
    return np.minimum(start + skip * np.arange(length), num_frames - 1)


def evaluation_clips(num_frames: int, length: int, mode: str = "windows", count: int = 10) -> np.ndarray:
    """Frame indices (clips x length) covering the video: back-to-back windows, or `count` uniform clips."""
    if num_frames < 1:
        raise ValueError("a video needs at least one frame")
    if mode == "windows":
        starts = np.arange(0, max(num_frames - length, 0) + 1, length)
        if starts[-1] + length < num_frames:  # the tail that no full window reaches gets one more clip
            starts = np.append(starts, num_frames - length)
    elif mode == "uniform":
        starts = np.linspace(0, max(num_frames - length, 0), count).round().astype(int)
    else:
        raise ValueError(f"test clip mode {mode!r}: expected 'windows' or 'uniform'")
    return np.minimum(starts[:, None] + np.arange(length)[None, :], num_frames - 1)
