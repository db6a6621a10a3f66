"""Spatial transforms on whole clips: every frame of a clip gets the same resize, crop and flip.

Training: short side resized to `short_side` (paper code: 136; torchvision reference: 128), a
multi-scale random crop (side = scale x short side, scales 1, .841, .707, .595, .5) resized to `crop`,
horizontal flip with p = 0.5. Test: short side resized, centre crop. Both normalise with the
Kinetics mean and std (the authors left pixels in 0-255; the reference says to normalise properly).

The box is drawn on the frame resized to the short side, as the paper describes, but the work is
done in the source's pixels: only the box is copied out of the frames (from a memory-mapped cache,
only its bytes are read), mirrored during that copy, and resized once, in uint8, straight to `crop`.
That equals resizing whole frames, cropping and flipping after, for a fraction of the work.

Clips leave the transforms as uint8, channels first (3, T, crop, crop): the loader's workers never make
floats. `normalise` turns a batch into the model's floats on the training device, where it costs
nothing next to the step, and a uint8 batch is a quarter of the bytes the workers hand over, the main
process pins and the bus carries (benchmarks/video_loading.py measures what it saves the workers).
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
CROP_SCALES = (1.0, 0.841, 0.707, 0.595, 0.5)


_MEAN = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1)
_STD = torch.tensor(KINETICS_STD).view(3, 1, 1, 1)
_SCALE, _OFFSET = 1.0 / (255.0 * _STD), -_MEAN / _STD


def normalise(clips: torch.Tensor) -> torch.Tensor:
    """uint8 clips (..., 3, T, H, W), on any device -> float32 normalised with the Kinetics mean and std."""
    if clips.dtype != torch.uint8 or clips.dim() < 4 or clips.shape[-4] != 3:
        raise ValueError(f"clips must be uint8 (..., 3, T, H, W), got {clips.dtype} {tuple(clips.shape)}")
    scale, offset = _constants_on(clips.device)
    return clips.float().mul_(scale).add_(offset)


@functools.cache
def _constants_on(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The per-channel scale and offset on `device`, copied there once (not a synchronous copy a batch)."""
    return _SCALE.to(device), _OFFSET.to(device)


def source_box(top: int, left: int, side: int, scale: float, height: int, width: int) -> tuple[int, int, int, int]:
    """(top, left, height, width) in the source's pixels of a square box drawn on the frame resized by
    `scale`: each edge rounded to the nearest source pixel (at most half a pixel off, and never
    systematically larger or smaller), inside the frame."""

    def edges(start: int, limit: int) -> tuple[int, int]:
        first = min(max(0, round(start / scale)), limit - 1)
        return first, min(max(first + 1, round((start + side) / scale)), limit)

    (y0, y1), (x0, x1) = edges(top, height), edges(left, width)
    return y0, x0, y1 - y0, x1 - x0


def crop_resize(frames: np.ndarray, box: tuple[int, int, int, int], size: int, flip: bool) -> torch.Tensor:
    """Frames (T, H, W, 3) uint8 -> the `box` (top, left, height, width in source pixels), mirrored if
    `flip`, resized to size x size: uint8 (3, T, size, size)."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    top, left, height, width = box
    region = frames[:, top : top + height, left : left + width]
    # One copy, of the box alone, mirrored on the way (a bilinear resize commutes with the mirror).
    region = np.array(region[:, :, ::-1] if flip else region, order="C")
    # (T, 3, h, w) in channels-last memory: torch's vectorised uint8 bilinear kernel, several times float's speed.
    clip = torch.from_numpy(region).permute(0, 3, 1, 2)
    if (height, width) != (size, size):
        clip = F.interpolate(clip, size=(size, size), mode="bilinear", align_corners=False, antialias=max(height, width) > size)
    return clip.permute(1, 0, 2, 3).contiguous()


def _resized_shape(height: int, width: int, short_side: int) -> tuple[float, int, int]:
    """The factor that takes the short side to `short_side`, and the frame's size after it."""
    scale = short_side / min(height, width)
    return scale, round(height * scale), round(width * scale)


class TrainTransform:
    def __init__(self, short_side: int, crop: int, scales=CROP_SCALES, flip: bool = True):
        if crop > short_side:
            raise ValueError(f"video.crop {crop} is larger than video.short_side {short_side}")
        self.short_side, self.crop, self.scales, self.flip = short_side, crop, tuple(scales), flip

    def parameters(self, height: int, width: int, rng: np.random.Generator) -> tuple[int, int, int, bool]:
        """(top, left, side, flip) of the crop on the frame resized to the short side: drawn once per clip."""
        side = max(1, int(round(min(height, width) * self.scales[rng.integers(len(self.scales))])))
        top = int(rng.integers(0, height - side + 1))
        left = int(rng.integers(0, width - side + 1))
        return top, left, side, bool(self.flip and rng.random() < 0.5)

    def source_crop(self, height: int, width: int, rng: np.random.Generator) -> tuple[tuple[int, int, int, int], bool]:
        """(the crop's box in a height x width source's pixels, flip): drawn on the frame resized to the short side."""
        scale, resized_height, resized_width = _resized_shape(height, width, self.short_side)
        top, left, side, flip = self.parameters(resized_height, resized_width, rng)
        return source_box(top, left, side, scale, height, width), flip

    def __call__(self, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        box, flip = self.source_crop(*frames.shape[1:3], rng)
        return crop_resize(frames, box, self.crop, flip)


class EvalTransform:
    def __init__(self, short_side: int, crop: int):
        if crop > short_side:
            raise ValueError(f"video.crop {crop} is larger than video.short_side {short_side}")
        self.short_side, self.crop = short_side, crop

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        height, width = frames.shape[1:3]
        scale, resized_height, resized_width = _resized_shape(height, width, self.short_side)
        top, left = (resized_height - self.crop) // 2, (resized_width - self.crop) // 2
        return crop_resize(frames, source_box(top, left, self.crop, scale, height, width), self.crop, False)
