"""PCL's training samples: per video and epoch, one tuple of clips with its middle clip transformed, and
the pretext task as the target (pretext.py draws and applies it).

The same dataset as every other table's (ClipDataset): the same index, cache, usable-status policy and
failure handling; only what a training sample is changes. All of a tuple's windows (and the remote
clip) are read in one call, so a video file is opened and sought once per tuple; each clip then gets
its own random crop and flip, drawn from the same (seed, epoch, item) generator as the tuple.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from noisyactions.training.pretext import apply_pretext, draw_pretext
from noisyactions.video.dataset import ClipDataset
from noisyactions.video.reader import ClipFailure


class PretextTupleDataset(ClipDataset):
    def __init__(self, videos: pd.DataFrame, video: dict, pcl: dict, max_skip: int = 1, seed: int = 0):
        """`video`: the clip geometry (its clip_length is each clip's); `pcl`: training.ssl's gap,
        tuple_length and remote_distance."""
        super().__init__(videos.assign(target=0), 1, video, train=True, max_skip=max_skip, seed=seed)
        self.gap, self.tuple_len, self.remote_distance = pcl["gap"], pcl["tuple_length"], pcl["remote_distance"]

    def _training_sample(self, item: int, epoch: int, path: str, frames: int | None) -> tuple[torch.Tensor, torch.Tensor] | ClipFailure:
        frames, status = self._known_frames(item, path, frames)
        if isinstance(frames, ClipFailure):
            return frames
        rng = self.sample_rng(epoch, item)
        draw = draw_pretext(frames, rng, self.length, self.gap, self.tuple_len, self.max_skip, self.remote_distance)
        windows = draw.windows
        data = self._read(item, path, frames, status, np.concatenate(windows))
        if isinstance(data, ClipFailure):
            return data
        clips = [self.transform(window, rng) for window in np.split(data, len(windows))]
        tuple_clips, task = apply_pretext(clips, draw)
        return tuple_clips, torch.tensor(task)
