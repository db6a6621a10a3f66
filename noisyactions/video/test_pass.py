"""Every test clip of a video from one decode pass.

Testing covers a whole video (every window, or N uniform clips). Reading the clips one by one reopens
the file and seeks back for each, which on long-GOP files decodes most of a GOP again per clip:
seconds per 720p video. One pass from the first frame visits each frame once. The frames the clips
use are transformed a few at a time as they arrive (the test transform works frame by frame), so
memory holds the transformed clips, never a whole video at the source resolution.

Like every reader (reader.py) it never raises for a broken file: a video that stops decoding early or
changes resolution part-way comes back as a ClipFailure, counted wrong by the caller. Whether a video's
decode status lets it be read at all is the caller's policy (decode.usable), so a pass over a whole
video hands back its decode report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from noisyactions.video.decode import DecodeReport, VideoDecoder, numbered_frames
from noisyactions.video.reader import READ_ERRORS, ClipFailure

FRAMES_PER_TRANSFORM = 8  # source frames held at once: the transform's per-call cost spread, memory still flat


def read_test_clips(path: Path, frame_count: int | None, clips_for: Callable[[int], np.ndarray], transform: Callable,
                    threads: int = 1) -> tuple[torch.Tensor | ClipFailure, DecodeReport | None]:
    """The clips `clips_for(frames)` (clips x length frame numbers) of `path`, each `transform`ed and
    stacked, or why not; and, when the pass decoded the whole video, its decode report. With
    `frame_count` known (a cache index's `frames`) the pass stops after the last frame a clip uses and
    the report is None; without it the pass decodes the whole video, and the clips are those of the
    frames that decoded."""
    decoder = VideoDecoder(path, threads)
    try:
        clips = _clips_in_one_pass(decoder, frame_count, clips_for, transform)
    except READ_ERRORS as error:
        clips = ClipFailure.of(path, error)
    return clips, (decoder.report if not frame_count else None)


def _clips_in_one_pass(decoder: VideoDecoder, frame_count: int | None, clips_for: Callable[[int], np.ndarray], transform: Callable) -> torch.Tensor:
    clips = clips_for(frame_count) if frame_count else None
    wanted = set(clips.ravel().tolist()) if clips is not None else None
    numbers, pending, transformed = [], [], []
    for number, frame in numbered_frames(decoder, wanted, max(wanted) if wanted else None):
        numbers.append(number)
        pending.append(frame.to_ndarray(format="rgb24"))
        if len(pending) == FRAMES_PER_TRANSFORM:
            transformed.append(transform(np.stack(pending)))  # frames of two sizes: ValueError, a failed video
            pending.clear()
    if pending:
        transformed.append(transform(np.stack(pending)))
    if clips is None:
        clips = clips_for(decoder.report.decoded)
    frames = torch.cat(transformed, dim=1)  # (C, frames kept, H, W)
    position = _positions(numbers, clips)
    return torch.stack([frames[:, torch.from_numpy(kept)] for kept in position])


def _positions(numbers: list[int], clips: np.ndarray) -> np.ndarray:
    """Where each frame of `clips` is among the kept frames `numbers` (ascending)."""
    position = np.full(numbers[-1] + 1, -1)
    position[numbers] = np.arange(len(numbers))
    found = position[clips]
    assert (found >= 0).all(), f"clip frames {sorted(set(clips[found < 0].tolist()))} were not kept in the pass"
    return found
