"""The pretext half of Pretext-Contrastive Learning (PCL, VCP variant; Tao et al. 2020, paper ref. [38]).

A tuple of 3 clips of `length` frames, `gap` frames apart, from one video. The middle clip gets one of
5 transformations and the network says which (a 5-way classification over the 3 clips' features):

  0 none · 1 rotation by 90, 180 or 270 degrees · 2 spatial permutation of the 4 quadrants ·
  3 temporal shuffle (two of the clip's 4 chunks swapped) · 4 replaced by a remote clip of the video.

Everything random is drawn from one numpy Generator when the frame indices are chosen (`draw_pretext`),
so a dataset that seeds it from (seed, epoch, item) gets the same tuple, task and parameters in every
worker and after a resume; the tensor transforms themselves are deterministic.

Frame indices follow clips.training_clip's rules: a skip drawn from 1..max_skip and lowered until the
tuple fits, and a video too short for the tuple padded by repeating its last frame. Clip i starts
i * (length + gap) * skip frames after the tuple's start (the paper's spacing; the authors' loader
spaced clips tuple_len + gap frames apart, which overlaps 16-frame clips).

The remote clip is a window of the same length and skip at least `remote_distance` frames (authors:
16) before the tuple's first frame or after its last, on a side drawn at random among those that fit.
When neither fits, the task is drawn again among the other four, as the authors' loader does (the
authors required both sides to fit; one is enough here).

Transforms move pixels only, so they work on the loader's uint8 clips as on float ones, in the layout
the models take, (C, T, H, W) or batched (B, C, T, H, W): time is dim -3, height -2, width -1. Rotation
needs square frames and the quadrant permutation even sides; training crops are square (video.crop).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from noisyactions.video.clips import random_start_and_skip

PRETEXT_TASKS = ("none", "rotation", "spatial_permutation", "temporal_shuffle", "remote_clip")
NONE, ROTATION, SPATIAL_PERMUTATION, TEMPORAL_SHUFFLE, REMOTE_CLIP = range(len(PRETEXT_TASKS))
TEMPORAL_CHUNKS = 4
QUADRANTS = 4
IDENTITY = (0, 1, 2, 3)
# every reordering of the 4 quadrants except the identity (the "none" task)
SPATIAL_ORDERS = tuple(order for order in itertools.permutations(range(QUADRANTS)) if order != IDENTITY)


@dataclass(frozen=True)
class PretextDraw:
    """One tuple: its clips' frame indices, the middle clip's task and that task's parameters."""

    task: int
    clips: np.ndarray  # (tuple_len, length) frame indices
    skip: int
    remote: np.ndarray | None = None  # (length,) frame indices of the remote window, task REMOTE_CLIP only
    quarter_turns: int = 0  # ROTATION: 1, 2 or 3 (90, 180, 270 degrees counter-clockwise)
    spatial_order: tuple[int, ...] = IDENTITY  # SPATIAL_PERMUTATION: which quadrant goes to TL, TR, BL, BR
    temporal_order: tuple[int, ...] = IDENTITY  # TEMPORAL_SHUFFLE: which chunk goes first, second, ...

    @property
    def windows(self) -> list[np.ndarray]:
        """The frame windows to read, in order: the tuple's clips, then the remote clip if any."""
        return list(self.clips) + ([self.remote] if self.remote is not None else [])


def tuple_steps(length: int, gap: int, tuple_len: int) -> int:
    """Frames a tuple covers at skip 1."""
    return tuple_len * length + (tuple_len - 1) * gap


def tuple_indices(num_frames: int, rng: np.random.Generator, length: int = 16, gap: int = 8, tuple_len: int = 3,
                  max_skip: int = 1) -> tuple[np.ndarray, int]:
    """(frame indices (tuple_len, length), skip) of one random tuple of a video of `num_frames` frames."""
    if length < 1 or gap < 0 or tuple_len < 1 or max_skip < 1:
        raise ValueError(f"tuple of {tuple_len} clips of {length} frames, gap {gap}, max skip {max_skip}: all must be positive (gap >= 0)")
    start, skip = random_start_and_skip(num_frames, tuple_steps(length, gap, tuple_len), max_skip, rng)
    offsets = (np.arange(tuple_len)[:, None] * (length + gap) + np.arange(length)[None, :]) * skip
    return np.minimum(start + offsets, num_frames - 1), skip


def remote_window(num_frames: int, first: int, last: int, length: int, skip: int, distance: int,
                  rng: np.random.Generator) -> np.ndarray | None:
    """Frame indices of a window of `length` frames at `skip` with at least `distance` frames between it
    and the tuple's frames first..last, before or after (a side drawn among those that fit); None when
    neither fits."""
    width = (length - 1) * skip + 1
    sides = []
    if first - distance - width >= 0:  # starts 0 .. first - distance - width: its last frame is >= distance before `first`
        sides.append((0, first - distance - width))
    if last + distance + 1 <= num_frames - width:
        sides.append((last + distance + 1, num_frames - width))
    if not sides:
        return None
    low, high = sides[int(rng.integers(len(sides)))]
    return int(rng.integers(low, high + 1)) + skip * np.arange(length)


def draw_pretext(num_frames: int, rng: np.random.Generator, length: int = 16, gap: int = 8, tuple_len: int = 3,
                 max_skip: int = 1, remote_distance: int = 16) -> PretextDraw:
    """A tuple's frames, a task drawn uniformly from the five, and the task's parameters."""
    clips, skip = tuple_indices(num_frames, rng, length, gap, tuple_len, max_skip)
    task, remote = int(rng.integers(len(PRETEXT_TASKS))), None
    if task == REMOTE_CLIP:
        remote = remote_window(num_frames, int(clips.min()), int(clips.max()), length, skip, remote_distance, rng)
        if remote is None:  # no room for a remote clip: one of the other four
            task = int(rng.integers(REMOTE_CLIP))
    if task == ROTATION:
        return PretextDraw(task, clips, skip, quarter_turns=int(rng.integers(1, 4)))
    if task == SPATIAL_PERMUTATION:
        return PretextDraw(task, clips, skip, spatial_order=SPATIAL_ORDERS[int(rng.integers(len(SPATIAL_ORDERS)))])
    if task == TEMPORAL_SHUFFLE:  # the authors' adjacent_shuffle: swap chunk i with one of the other three
        first = int(rng.integers(TEMPORAL_CHUNKS))
        second = (first + 1 + int(rng.integers(TEMPORAL_CHUNKS - 1))) % TEMPORAL_CHUNKS
        order = list(range(TEMPORAL_CHUNKS))
        order[first], order[second] = order[second], order[first]
        return PretextDraw(task, clips, skip, temporal_order=tuple(order))
    return PretextDraw(task, clips, skip, remote=remote)


def rotate(clip: torch.Tensor, quarter_turns: int) -> torch.Tensor:
    """Every frame rotated by quarter_turns x 90 degrees counter-clockwise (torch.rot90 over H, W)."""
    if clip.shape[-1] != clip.shape[-2]:
        raise ValueError(f"rotation needs square frames, got {tuple(clip.shape[-2:])} (make video.crop square)")
    return torch.rot90(clip, quarter_turns, dims=(-2, -1))


def spatial_permutation(clip: torch.Tensor, order: Sequence[int]) -> torch.Tensor:
    """The frame's quadrants (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) rearranged:
    quadrant order[k] goes to position k."""
    height, width = clip.shape[-2:]
    if height % 2 or width % 2:
        raise ValueError(f"the quadrant permutation needs even frame sides, got {height}x{width}")
    if sorted(order) != list(range(QUADRANTS)):
        raise ValueError(f"spatial order {tuple(order)} is not a permutation of 0..3")
    top, bottom = clip.tensor_split(2, dim=-2)
    quadrants = [*top.tensor_split(2, dim=-1), *bottom.tensor_split(2, dim=-1)]
    rows = [torch.cat([quadrants[order[0]], quadrants[order[1]]], dim=-1), torch.cat([quadrants[order[2]], quadrants[order[3]]], dim=-1)]
    return torch.cat(rows, dim=-2)


def temporal_shuffle(clip: torch.Tensor, order: Sequence[int]) -> torch.Tensor:
    """The clip cut into len(order) consecutive chunks of frames (as equal as T allows), chunk order[k]
    placed k-th."""
    frames = clip.shape[-3]
    if sorted(order) != list(range(len(order))):
        raise ValueError(f"temporal order {tuple(order)} is not a permutation")
    if frames < len(order):
        raise ValueError(f"a clip of {frames} frames cannot be cut into {len(order)} chunks")
    chunks = clip.tensor_split(len(order), dim=-3)
    return torch.cat([chunks[k] for k in order], dim=-3)


def transform_middle(middle: torch.Tensor, draw: PretextDraw, remote: torch.Tensor | None = None) -> torch.Tensor:
    """The middle clip after the draw's task."""
    if draw.task == NONE:
        return middle
    if draw.task == ROTATION:
        return rotate(middle, draw.quarter_turns)
    if draw.task == SPATIAL_PERMUTATION:
        return spatial_permutation(middle, draw.spatial_order)
    if draw.task == TEMPORAL_SHUFFLE:
        return temporal_shuffle(middle, draw.temporal_order)
    if draw.task == REMOTE_CLIP:
        if remote is None or remote.shape != middle.shape:
            raise ValueError(f"the remote-clip task needs a remote clip shaped like the middle one {tuple(middle.shape)}")
        return remote
    raise ValueError(f"pretext task {draw.task}: expected 0..{len(PRETEXT_TASKS) - 1}")


def apply_pretext(clips: Sequence[torch.Tensor], draw: PretextDraw) -> tuple[torch.Tensor, int]:
    """The clips read for draw.windows (the tuple's, then the remote one if any) -> (the tuple stacked,
    (tuple_len, C, T, H, W), with its middle clip transformed; the task label)."""
    count = len(draw.clips)
    if len(clips) != len(draw.windows):
        raise ValueError(f"{len(clips)} clips for a draw of {len(draw.windows)} windows")
    tuple_clips = list(clips[:count])
    middle = count // 2
    tuple_clips[middle] = transform_middle(tuple_clips[middle], draw, clips[count] if len(clips) > count else None)
    return torch.stack(tuple_clips), draw.task

