"""Spatial transforms on whole clips: every frame of a clip gets the same resize, crop and flip.

Training: short side resized to `short_side` (paper code: 136; torchvision reference: 128), a
multi-scale random crop (side = scale x short side, scales 1, .841, .707, .595, .5) resized to `crop`,
horizontal flip with p = 0.5. Test: short side resized, centre crop. Both normalise with the
Kinetics mean and std (the authors left pixels in 0-255; the reference says to normalise properly).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
CROP_SCALES = (1.0, 0.841, 0.707, 0.595, 0.5)


_MEAN = torch.tensor(KINETICS_MEAN).view(3, 1, 1, 1)
_STD = torch.tensor(KINETICS_STD).view(3, 1, 1, 1)
_SCALE, _OFFSET = 1.0 / (255.0 * _STD), -_MEAN / _STD


def normalise(clip: torch.Tensor) -> torch.Tensor:
    """uint8 (T, 3, H, W) -> float (3, T, H, W), the layout video models take, normalised in one pass."""
    return torch.addcmul(_OFFSET, clip.permute(1, 0, 2, 3).contiguous().float(), _SCALE)


def _crop_resized(frames: np.ndarray, box: tuple[float, float, float, float], size: int, flip: bool) -> torch.Tensor:
    """Crop `box` (top, left, height, width in source pixels) and resize it to size x size: one
    interpolation on the crop alone, which equals resizing the frame first and cropping after, for
    a fraction of the work."""
    top, left, height, width = box
    y0, x0 = int(np.floor(top)), int(np.floor(left))
    y1, x1 = int(np.ceil(top + height)), int(np.ceil(left + width))
    # uint8 all the way to the last step: torch's uint8 bilinear kernel is ~4x faster than float's.
    clip = torch.from_numpy(np.ascontiguousarray(frames[:, y0:y1, x0:x1])).permute(0, 3, 1, 2)
    if clip.shape[-2:] != (size, size):
        clip = F.interpolate(clip, size=(size, size), mode="bilinear", align_corners=False, antialias=min(clip.shape[-2:]) > size)
    if flip:
        clip = clip.flip(-1)
    return normalise(clip)


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

    def __call__(self, frames: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        height, width = frames.shape[1:3]
        scale = self.short_side / min(height, width)
        top, left, side, flip = self.parameters(round(height * scale), round(width * scale), rng)
        return _crop_resized(frames, (top / scale, left / scale, side / scale, side / scale), self.crop, flip)


class EvalTransform:
    def __init__(self, short_side: int, crop: int):
        if crop > short_side:
            raise ValueError(f"video.crop {crop} is larger than video.short_side {short_side}")
        self.short_side, self.crop = short_side, crop

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        height, width = frames.shape[1:3]
        scale = self.short_side / min(height, width)
        top, left = (round(height * scale) - self.crop) // 2, (round(width * scale) - self.crop) // 2
        return _crop_resized(frames, (top / scale, left / scale, self.crop / scale, self.crop / scale), self.crop, False)
