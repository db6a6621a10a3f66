"""A PyTorch dataset of clips over any VideoIndex, for training (one random clip per video and
epoch) or testing (every clip of a video). Failed samples are returned as failures, dropped by
`collate_clips` and counted, so a broken file never stops a worker.

Which frames a video has is decided in one place (decode.py), for cached and uncached reading alike:
a cache index brings `frames` and `status`; a source file without them is decoded once (per worker)
to count them, as the cache would have, so both see the same frames and the same failures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from noisyactions.video.clips import evaluation_clips, training_clip
from noisyactions.video.decode import DecodeReport, scan_video
from noisyactions.video.mapped_frames import map_frames
from noisyactions.video.reader import ClipFailure, ClipReader, read_clip
from noisyactions.video.test_pass import read_test_clips
from noisyactions.video.transforms import EvalTransform, TrainTransform


class ClipDataset(Dataset):
    def __init__(self, videos: pd.DataFrame, classes: int, video: dict, train: bool, max_skip: int = 1, multi_label: bool = False, seed: int = 0):
        """`videos`: path (or cached), target, and optionally a cache index's frames and status;
        `video`: the config's video section (its cache.use_partial says whether a video that decodes
        only part-way is read)."""
        self.videos = videos.reset_index(drop=True)
        self._rows = self.videos.to_dict("records")  # a dict per row: pandas row access costs more than a cached clip
        self.classes, self.train, self.max_skip, self.multi_label = classes, train, max_skip, multi_label
        self.length = video["clip_length"]
        self.test_mode, self.test_count = video["test_clips"], video["test_clip_count"]
        self.threads = video["decode_threads"]
        self.use_partial = video["cache"]["use_partial"]
        self.reader = ClipReader(self.threads)
        self.transform = TrainTransform(video["short_side"], video["crop"]) if train else EvalTransform(video["short_side"], video["crop"])
        self.seed, self.epoch = seed, 0
        self._scans: dict[str, DecodeReport] = {}

    def __len__(self) -> int:
        return len(self.videos)

    def set_epoch(self, epoch: int) -> None:
        """Clips and crops are drawn from (seed, epoch, item): resumable and the same in every worker."""
        self.epoch = epoch

    def target(self, row: dict) -> torch.Tensor:
        if self.multi_label:
            hot = torch.zeros(self.classes)
            hot[list(row["target"])] = 1.0
            return hot
        return torch.tensor(int(row["target"]))

    def _unusable(self, status: str, reason: str) -> str | None:
        """Why a video with this decode status is not read, or None when it is."""
        if status == "undecodable" or (status == "partial" and not self.use_partial):
            return f"{status}{' (video.cache.use_partial is false)' if status == 'partial' else ''}: {reason}"
        return None

    def __getitem__(self, item: int) -> dict:
        row = self._rows[item]
        cached = isinstance(row.get("cached"), str)
        path = str(row["cached"] if cached else row["path"])
        status = row.get("status")
        if status is not None and (why := self._unusable(status, str(row.get("error", "")))):
            return {"failure": ClipFailure(path, why), "index": item}
        frames = int(row["frames"]) if row.get("frames") else None
        if self.train:
            if frames is None:
                frames, status = self._count(path)
            if isinstance(frames, ClipFailure):
                return {"failure": frames, "index": item}
            rng = np.random.default_rng([self.seed, self.epoch, item])
            indices = training_clip(frames, self.length, self.max_skip, rng)
            # A damaged source file's timestamps say nothing about which frames were lost: count instead.
            data = self.reader.read(path, indices, seek=False) if status == "partial" and not cached else read_clip(path, indices, self.reader)
            if isinstance(data, ClipFailure):
                return {"failure": data, "index": item}
            return {"clip": self.transform(data, rng), "target": self.target(row), "index": item}
        clips = self._test_clips(path, frames)
        if isinstance(clips, ClipFailure):
            return {"failure": clips, "index": item}
        return {"clip": clips, "target": self.target(row), "index": item}

    def _count(self, path: str) -> tuple[int | ClipFailure, str | None]:
        """(frames, decode status) of a file the index gives no count for: a frame cache's length, or a
        video decoded once, as the cache would, remembered for later epochs."""
        try:
            if path.endswith(".npy"):
                return len(map_frames(path)), None
        except (OSError, ValueError) as error:
            return ClipFailure(path, f"{type(error).__name__}: {error}"), None
        if path not in self._scans:
            self._scans[path] = scan_video(path, self.threads)
        report = self._scans[path]
        why = self._unusable(report.status, report.reason)
        return (ClipFailure(path, why) if why else report.decoded), report.status

    def _test_clips(self, path: str, frames: int | None) -> torch.Tensor | ClipFailure:
        """Every test clip: slices of a frame cache, or one decode pass over a video file."""
        clips_for = lambda count: evaluation_clips(count, self.length, self.test_mode, self.test_count)  # noqa: E731
        if not path.endswith(".npy"):
            return read_test_clips(path, frames, clips_for, self.transform, self.threads, self.use_partial)
        count = frames or self._count(path)[0]
        if isinstance(count, ClipFailure):
            return count
        clips = []
        for indices in clips_for(count):
            data = read_clip(path, indices, self.reader)
            if isinstance(data, ClipFailure):
                return data
            clips.append(self.transform(data))
        return torch.stack(clips)


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
