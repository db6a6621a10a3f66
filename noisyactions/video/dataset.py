"""A PyTorch dataset of clips over any VideoIndex, for training (one random clip per video and
epoch) or testing (every clip of a video). Failed samples are returned as failures, dropped by
`collate_clips` and counted, so a broken file never stops a worker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from noisyactions.video.clips import evaluation_clips, training_clip
from noisyactions.video.reader import ClipFailure, ClipReader, frame_count, read_clip
from noisyactions.video.transforms import EvalTransform, TrainTransform


class ClipDataset(Dataset):
    def __init__(self, videos: pd.DataFrame, classes: int, video: dict, train: bool, max_skip: int = 1, multi_label: bool = False, seed: int = 0):
        """`videos`: path (or cached), target, frames (optional); `video`: the config's video section."""
        self.videos = videos.reset_index(drop=True)
        self.classes, self.train, self.max_skip, self.multi_label = classes, train, max_skip, multi_label
        self.length = video["clip_length"]
        self.test_mode, self.test_count = video["test_clips"], video["test_clip_count"]
        self.reader = ClipReader(video["decode_threads"])
        self.transform = TrainTransform(video["short_side"], video["crop"]) if train else EvalTransform(video["short_side"], video["crop"])
        self.seed, self.epoch = seed, 0

    def __len__(self) -> int:
        return len(self.videos)

    def set_epoch(self, epoch: int) -> None:
        """Clips and crops are drawn from (seed, epoch, item): resumable and the same in every worker."""
        self.epoch = epoch

    def target(self, row) -> torch.Tensor:
        if self.multi_label:
            hot = torch.zeros(self.classes)
            hot[list(row.target)] = 1.0
            return hot
        return torch.tensor(int(row.target))

    def __getitem__(self, item: int) -> dict:
        row = self.videos.iloc[item]
        path = row.cached if "cached" in self.videos and isinstance(row.get("cached"), str) else row.path
        try:
            frames = int(row.frames) if "frames" in self.videos and row.frames else frame_count(path)
        except Exception as error:  # noqa: BLE001 (reported below like any decode failure)
            return {"failure": ClipFailure(str(path), f"{type(error).__name__}: {error}"), "index": item}
        rng = np.random.default_rng([self.seed, self.epoch, item])
        if self.train:
            data = read_clip(path, training_clip(frames, self.length, self.max_skip, rng), self.reader)
            if isinstance(data, ClipFailure):
                return {"failure": data, "index": item}
            return {"clip": self.transform(data, rng), "target": self.target(row), "index": item}
        clips = []
        for indices in evaluation_clips(frames, self.length, self.test_mode, self.test_count):
            data = read_clip(path, indices, self.reader)
            if isinstance(data, ClipFailure):
                return {"failure": data, "index": item}
            clips.append(self.transform(data))
        return {"clip": torch.stack(clips), "target": self.target(row), "index": item}


def collate_clips(samples: list[dict]) -> dict:
    """Stack the samples that loaded; hand back the failures so the caller can count them."""
    good = [s for s in samples if "failure" not in s]
    batch = {"failures": [s["failure"] for s in samples if "failure" in s], "failed_index": [s["index"] for s in samples if "failure" in s]}
    if good:
        batch.update(
            clip=torch.stack([s["clip"] for s in good]) if good[0]["clip"].dim() == 4 else [s["clip"] for s in good],
            target=torch.stack([s["target"] for s in good]),
            index=torch.tensor([s["index"] for s in good]),
        )
    return batch
