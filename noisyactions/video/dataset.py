"""A PyTorch dataset of clips over any VideoIndex, for training (one random clip per video and
epoch) or testing (every clip of a video). Failed samples are returned as failures, dropped by
`collate_clips` and counted, so a broken file never stops a worker.

Which frames a video has is decided in one place (decode.py), for cached and uncached reading alike:
a cache index brings `frames` and `status`; a source file without them is decoded once (per worker)
to count them, as the cache would have, so both see the same frames and the same failures. Whether a
status is read at all is decode.usable with `video.cache.use_partial`: a video that is not comes back
as a failure naming its status, so a test set over a whole list counts it wrong in the denominator.

The index is held as plain arrays, not a row object per video: loader workers are forked, and touching
a Python object per row would copy the parent's pages into every worker, 100K videos at paper scale.
"""

from __future__ import annotations

from dataclasses import astuple, fields

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from noisyactions.video.clips import evaluation_clips, training_clip
from noisyactions.video.decode import DecodeReport, scan_video, usable
from noisyactions.video.frame_table import RegularTiming, timing_table
from noisyactions.video.reader import READ_ERRORS, ClipFailure, ClipReader, is_frame_store, read_clip, stored_frames
from noisyactions.video.test_pass import read_test_clips
from noisyactions.video.transforms import EvalTransform, TrainTransform


class ClipDataset(Dataset):
    def __init__(self, videos: pd.DataFrame, classes: int, video: dict, train: bool, max_skip: int = 1, multi_label: bool = False, seed: int = 0):
        """`videos`: path (or cached), target, and optionally a cache index's frames, status, error and
        timing; `video`: the config's video section (its cache.use_partial says whether a video that
        decodes only part-way is read)."""
        videos = videos.reset_index(drop=True)
        self.classes, self.train, self.max_skip, self.multi_label = classes, train, max_skip, multi_label
        self.length = video["clip_length"]
        self.test_mode, self.test_count = video["test_clips"], video["test_clip_count"]
        self.threads = video["decode_threads"]
        self.use_partial = video["cache"]["use_partial"]
        self.reader = ClipReader(self.threads)
        self.transform = TrainTransform(video["short_side"], video["crop"]) if train else EvalTransform(video["short_side"], video["crop"])
        self.seed = seed
        self._scans: dict[str, DecodeReport] = {}
        self.cached, self.paths = _read_paths(videos)
        self.frames = _column(videos, "frames", 0).fillna(0).to_numpy(dtype=np.int64)  # 0: not known
        self.status = _column(videos, "status", "").fillna("").map(str).to_numpy(dtype=str)  # "": not known
        self.timings = _timings(_column(videos, "timing", None))
        self.labels, self.label_starts = _labels(videos["target"], multi_label)
        # item -> why it is not read, for the rows whose recorded status is not usable (few): the policy applied once
        self.unusable = {item: _why_unusable(status, str(error)) for item, (status, error) in enumerate(zip(self.status, _column(videos, "error", "")))
                         if status and not usable(status, self.use_partial)}

    def __len__(self) -> int:
        return len(self.paths)

    def sample_rng(self, epoch: int, item: int) -> np.random.Generator:
        """The generator of `item`'s training sample in `epoch`: its clip, crop and flip."""
        return np.random.default_rng([self.seed, epoch, item])

    def target(self, item: int) -> torch.Tensor:
        labels = self.labels[self.label_starts[item]:self.label_starts[item + 1]]
        if self.multi_label:
            hot = torch.zeros(self.classes)
            hot[torch.from_numpy(labels)] = 1.0
            return hot
        return torch.tensor(int(labels[0]))

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        """`item`, or `(epoch, item)`: a training clip and its crop are drawn from (seed, epoch, item), so a
        sample is the same in any worker and after a resume, and the epoch travels with the item from
        the sampler (trainer.EpochBatches) to loader workers that outlive an epoch. A bare item is epoch 0."""
        epoch, item = key if isinstance(key, tuple) else (0, key)
        path = str(self.paths[item])
        if item in self.unusable:
            return {"failure": ClipFailure(path, self.unusable[item]), "index": item}
        frames = int(self.frames[item]) or None
        if self.train:
            sample = self._training_sample(item, epoch, path, frames)
        else:
            clips = self._test_clips(path, frames)
            sample = clips if isinstance(clips, ClipFailure) else (clips, self.target(item))
        if isinstance(sample, ClipFailure):
            return {"failure": sample, "index": item}
        return {"clip": sample[0], "target": sample[1], "index": item}

    def _training_sample(self, item: int, epoch: int, path: str, frames: int | None) -> tuple[torch.Tensor, torch.Tensor] | ClipFailure:
        """(one random clip, the video's target): what a subclass replaces to train on something else."""
        frames, status = self._known_frames(item, path, frames)
        if isinstance(frames, ClipFailure):
            return frames
        rng = self.sample_rng(epoch, item)
        data = self._read(item, path, frames, status, training_clip(frames, self.length, self.max_skip, rng))
        return data if isinstance(data, ClipFailure) else (self.transform(data, rng), self.target(item))

    def _known_frames(self, item: int, path: str, frames: int | None) -> tuple[int | ClipFailure, str]:
        """(the video's frame count, its decode status): the index's, or counted once when it gives none."""
        return (frames, self.status[item]) if frames is not None else self._count(path)

    def _read(self, item: int, path: str, frames: int, status: str, indices: np.ndarray) -> np.ndarray | ClipFailure:
        """Frames `indices` (any order, repeats allowed) of a video of `frames` frames, uint8 (T, H, W, 3)."""
        if status == "partial" and not self.cached[item]:  # a damaged source's timestamps say nothing about which frames were lost
            return self.reader.read(path, indices, seek=False)
        return read_clip(path, indices, self.reader, timing_table(self.timings[item], frames))

    def _count(self, path: str) -> tuple[int | ClipFailure, str]:
        """(frames, decode status) of a file the index gives no count for: a frame store's length, or a
        video decoded once, as the cache would, remembered for later epochs."""
        if is_frame_store(path):
            try:
                return stored_frames(path), ""
            except READ_ERRORS as error:
                return ClipFailure.of(path, error), ""
        if path not in self._scans:
            self._scans[path] = scan_video(path, self.threads)
        report = self._scans[path]
        if not usable(report.status, self.use_partial):
            return ClipFailure(path, _why_unusable(report.status, report.reason)), report.status
        return report.decoded, report.status

    def _test_clips(self, path: str, frames: int | None) -> torch.Tensor | ClipFailure:
        """Every test clip: clips read from a frame store, or one decode pass over a video file."""
        clips_for = lambda count: evaluation_clips(count, self.length, self.test_mode, self.test_count)  # noqa: E731
        if not is_frame_store(path):
            clips, report = read_test_clips(path, frames, clips_for, self.transform, self.threads)
            if report is not None and not usable(report.status, self.use_partial):
                return ClipFailure(path, _why_unusable(report.status, report.reason))
            return clips
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


def _column(videos: pd.DataFrame, name: str, default) -> pd.Series:
    """A column of the index, or `default` for every row when the index has none (a plain VideoIndex)."""
    return videos[name] if name in videos.columns else pd.Series([default] * len(videos), dtype=object)


def _read_paths(videos: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(whether each row is read from the cache, the file each row is read from)."""
    cached = _column(videos, "cached", None).map(lambda c: isinstance(c, str)).to_numpy(dtype=bool)
    return cached, np.where(cached, _column(videos, "cached", "").map(str), videos["path"].map(str)).astype(str)


def _timings(column: pd.Series) -> np.ndarray:
    """A cache index's `timing` records (frame_table.RegularTiming) as a row of ints per video, all 0
    where a video has none."""
    none = (0,) * len(fields(RegularTiming))
    rows = [astuple(RegularTiming(**timing)) if isinstance(timing, dict) else none for timing in column]
    return np.array(rows, dtype=np.int64).reshape(-1, len(none))


def _why_unusable(status: str, reason: str) -> str:
    return f"{status}{' (video.cache.use_partial is false)' if status == 'partial' else ''}: {reason}"


def _labels(targets: pd.Series, multi_label: bool) -> tuple[np.ndarray, np.ndarray]:
    """Every video's labels as one flat array and where each video's start (plus the end): a class id
    per video, or a list of them (multi-label, or a cache index's one-element lists)."""
    rows = [np.atleast_1d(np.asarray(t, dtype=np.int64)) for t in targets]
    if not multi_label and any(len(row) != 1 for row in rows):
        raise ValueError("a single-label dataset needs exactly one target per video")
    starts = np.concatenate([[0], np.cumsum([len(row) for row in rows], dtype=np.int64)])
    return (np.concatenate(rows) if rows else np.zeros(0, np.int64)), starts


def collate_clips(samples: list[dict]) -> dict:
    """Stack the samples that loaded; hand back the failures so the caller can count them."""
    good = [s for s in samples if "failure" not in s]
    batch = {"failures": [s["failure"] for s in samples if "failure" in s], "failed_index": [s["index"] for s in samples if "failure" in s]}
    if good:
        batch.update(
            # training clips and PCL tuples share a shape; a test video's clip count varies
            clip=torch.stack([s["clip"] for s in good]) if len({s["clip"].shape for s in good}) == 1 else [s["clip"] for s in good],
            target=torch.stack([s["target"] for s in good]),
            index=torch.tensor([s["index"] for s in good]),
        )
    return batch
