"""Every test clip of a video from one decode pass.

Testing covers a whole video (every window, or N uniform clips). Reading the clips one by one reopens
the file and seeks back for each, which on long-GOP files decodes most of a GOP again per clip:
seconds per 720p video. One pass from the first frame visits each frame once. The frames the clips
use are transformed a few at a time as they arrive (the test transform works frame by frame), so
memory holds the transformed clips, never a whole video at the source resolution.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch

from noisyactions.video.decode import VideoDecoder
from noisyactions.video.reader import ClipFailure


FRAMES_PER_TRANSFORM = 8  # source frames held at once: the transform's per-call cost spread, memory still flat


def read_test_clips(path: Path, frame_count: int | None, clips_for: Callable[[int], np.ndarray], transform: Callable,
                    threads: int = 1, use_partial: bool = True) -> torch.Tensor | ClipFailure:
    """The clips `clips_for(frames)` (clips x length frame numbers) of `path`, each `transform`ed and
    stacked, or why not. With `frame_count` known (a cache index's `frames`) the pass stops after the
    last frame a clip uses; without it the pass decodes the whole video and, as for the cache, its
    decode report says whether the video is usable (partial ones only with `use_partial`)."""
    clips = clips_for(frame_count) if frame_count else None
    needed = set(clips.ravel().tolist()) if clips is not None else None
    last = max(needed) if needed else None
    numbers, pending, transformed = [], [], []
    decoder = VideoDecoder(path, threads)
    for number, frame in enumerate(decoder.frames()):
        if needed is None or number in needed:
            numbers.append(number)
            pending.append(frame.to_ndarray(format="rgb24"))
            if len(pending) == FRAMES_PER_TRANSFORM:
                transformed.append(transform(np.stack(pending)))
                pending.clear()
        if last is not None and number >= last:
            break
    if pending:
        transformed.append(transform(np.stack(pending)))
    if clips is None:
        report = decoder.report
        if report.status == "undecodable" or (report.status == "partial" and not use_partial):
            return ClipFailure(str(path), f"{report.status}: {report.reason}")
        clips = clips_for(report.decoded)
    elif not numbers or numbers[-1] != last:  # the pass ran to the end: the report is complete
        report = decoder.report
        return ClipFailure(str(path), f"frame {last} asked of a video of which {report.decoded} frames decode" + (f" ({report.error})" if report.error else ""))
    frames = torch.cat(transformed, dim=1)  # (C, frames kept, H, W)
    position = np.full(max(numbers) + 1, -1)
    position[numbers] = np.arange(len(numbers))
    return torch.stack([frames[:, torch.from_numpy(position[clip])] for clip in clips])
