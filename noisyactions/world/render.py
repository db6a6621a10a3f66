"""Procedural action videos: a two-tone shape moving by its concept's motion over a varied scene.

The class is carried by motion, shape and speed; colour, background texture, clutter, camera shake
and sensor noise vary from video to video. Each dataset has its own appearance style, so the web
corpus and the downstream sets share motion but not looks, as Flickr and UCF101 do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from noisyactions.world.concepts import Concept

BACKGROUNDS = ("flat", "gradient", "stripes", "noise")


@dataclass(frozen=True)
class Style:
    """How a dataset's videos look: ranges the per-video appearance is drawn from."""

    backgrounds: tuple[float, float, float, float]  # probability of each of BACKGROUNDS
    brightness: tuple[float, float]
    saturation: tuple[float, float]
    max_clutter: int
    shake_rate: float
    scale: tuple[float, float]
    sensor_noise: float
    contrast: float  # brightness levels the object is lit (or shaded) away from its background: tiny models need it


STYLES = {
    # Flickr: anything goes.
    "web": Style((0.3, 0.25, 0.2, 0.25), (0.2, 1.0), (0.2, 1.0), 4, 0.3, (0.45, 0.65), 6.0, 120.0),
    # UCF101: textured scenes, muted colours.
    "ucf101": Style((0.0, 0.2, 0.5, 0.3), (0.35, 0.8), (0.1, 0.5), 3, 0.1, (0.45, 0.65), 3.0, 120.0),
    # HMDB51: dark, grainy film.
    "hmdb51": Style((0.2, 0.2, 0.2, 0.4), (0.15, 0.5), (0.1, 0.6), 2, 0.2, (0.4, 0.6), 10.0, 90.0),
    # The curated (Kinetics-like) set: clean and well framed.
    "curated": Style((0.5, 0.5, 0.0, 0.0), (0.4, 0.9), (0.3, 0.9), 0, 0.0, (0.4, 0.6), 2.0, 110.0),
}


@dataclass(frozen=True)
class Appearance:
    """Everything about one video that is not its class."""

    fg: tuple[np.ndarray, np.ndarray]
    bg: tuple[np.ndarray, np.ndarray]
    background: str
    stripe_angle: float
    stripe_freq: float
    noise_field: np.ndarray
    clutter: tuple[tuple[float, float, float, np.ndarray], ...]
    shake: float
    scale: float
    start: tuple[float, float]
    phase: float
    speed_jitter: float
    sensor_noise: float


def _colour(rng: np.random.Generator, style: Style) -> np.ndarray:
    value = rng.uniform(*style.brightness)
    saturation = rng.uniform(*style.saturation)
    hue = rng.random(3)
    return 255.0 * value * (1.0 - saturation + saturation * hue)


def _standing_out(colour: np.ndarray, background: float, contrast: float) -> np.ndarray:
    """`colour` lit `contrast` levels brighter over a dark background, or shaded as much darker over a
    bright one (judged by the mean of its two colours), so the object stands out of the scene on
    average; against one stripe or patch of a textured scene it can still blend in, as on Flickr."""
    return np.clip(colour + (contrast if background < 128 else -contrast), 0, 255)


def sample_appearance(rng: np.random.Generator, style_name: str) -> Appearance:
    style = STYLES[style_name]
    background = BACKGROUNDS[rng.choice(len(BACKGROUNDS), p=style.backgrounds)]
    clutter = tuple(
        (rng.uniform(-1.2, 1.2), rng.uniform(-0.9, 0.9), rng.uniform(0.05, 0.15), _colour(rng, style))
        for _ in range(rng.integers(0, style.max_clutter + 1))
    )
    fg, bg = (_colour(rng, style), _colour(rng, style)), (_colour(rng, style), _colour(rng, style))
    background_level = float(np.mean(bg))
    return Appearance(
        fg=tuple(_standing_out(c, background_level, style.contrast) for c in fg),
        bg=bg,
        background=background,
        stripe_angle=rng.uniform(0, np.pi),
        stripe_freq=rng.uniform(4, 12),
        noise_field=rng.random((6, 8)),
        clutter=clutter,
        shake=0.06 if rng.random() < style.shake_rate else 0.0,
        scale=rng.uniform(*style.scale),
        start=(rng.uniform(-0.25, 0.25), rng.uniform(-0.25, 0.25)),
        phase=rng.uniform(0, 2 * np.pi),
        speed_jitter=rng.uniform(0.85, 1.15),
        sensor_noise=style.sensor_noise,
    )


def _trajectory(concept: Concept, look: Appearance, u: np.ndarray):
    """Centre (x, y), rotation and scale of the object at normalised times u in [0, 1]."""
    v = concept.speed * look.speed_jitter
    x0, y0 = look.start
    x = np.full_like(u, x0)
    y = np.full_like(u, y0)
    angle = np.full_like(u, look.phase)
    scale = np.full_like(u, look.scale)
    motion = concept.motion
    # translations are centred on the frame, so a faster one does not leave it
    if motion == "translate_right":
        x = x0 / 2 + 1.2 * v * (u - 0.5)
    elif motion == "translate_left":
        x = x0 / 2 - 1.2 * v * (u - 0.5)
    elif motion == "translate_down":
        y = y0 / 2 + 0.8 * v * (u - 0.5)
    elif motion == "translate_up":
        y = y0 / 2 - 0.8 * v * (u - 0.5)
    elif motion == "rotate_cw":
        angle = look.phase + 2.0 * np.pi * 0.6 * v * u
    elif motion == "rotate_ccw":
        angle = look.phase - 2.0 * np.pi * 0.6 * v * u
    elif motion == "zoom_in":
        scale = look.scale * (0.6 + 1.2 * v * u)
    elif motion == "zoom_out":
        scale = look.scale * (0.6 + 1.2 * v * (1.0 - u))
    elif motion == "bounce":
        y = 0.5 - 1.0 * np.abs(np.sin(np.pi * 2.0 * v * u + look.phase / 4))
        x = x0 + 0.2 * u
    elif motion == "oscillate_horizontal":
        x = x0 + 0.55 * np.sin(2 * np.pi * 1.5 * v * u + look.phase)
    elif motion == "oscillate_vertical":
        y = y0 + 0.55 * np.sin(2 * np.pi * 1.5 * v * u + look.phase)
    elif motion == "orbit":
        x = 0.5 * np.cos(2 * np.pi * 0.8 * v * u + look.phase)
        y = 0.5 * np.sin(2 * np.pi * 0.8 * v * u + look.phase)
    else:
        raise ValueError(f"unknown motion {motion!r}")
    return x, y, angle, scale


def _shape_mask(shape: str, lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
    ax, ay = np.abs(lx), np.abs(ly)
    if shape == "disc":
        return lx**2 + ly**2 <= 1.0
    if shape == "square":
        return np.maximum(ax, ay) <= 0.85
    if shape == "triangle":
        return (ly >= -0.6) & (ly <= 0.95 - 1.7 * ax)
    if shape == "bar":
        return (ax <= 1.1) & (ay <= 0.32)
    if shape == "ring":
        radius2 = lx**2 + ly**2
        return (radius2 <= 1.0) & (radius2 >= 0.3)
    if shape == "cross":
        return ((ax <= 0.3) & (ay <= 1.0)) | ((ay <= 0.3) & (ax <= 1.0))
    raise ValueError(f"unknown shape {shape!r}")


def _background(look: Appearance, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    c0, c1 = look.bg
    if look.background == "flat":
        weight = np.zeros_like(xs)
    elif look.background == "gradient":
        weight = np.clip((xs + 1.5) / 3.0, 0, 1)
    elif look.background == "stripes":
        along = xs * np.cos(look.stripe_angle) + ys * np.sin(look.stripe_angle)
        weight = (np.sin(look.stripe_freq * along) > 0).astype(np.float64)
    else:
        rows, cols = look.noise_field.shape
        r = np.clip(((ys + 1.0) / 2.0 * rows).astype(int), 0, rows - 1)
        c = np.clip(((xs + 1.5) / 3.0 * cols).astype(int), 0, cols - 1)
        weight = look.noise_field[r, c]
    return c0 * (1.0 - weight[..., None]) + c1 * weight[..., None]


def render_frames(
    concept: Concept, look: Appearance, frames: int, height: int, width: int, rng: np.random.Generator
) -> np.ndarray:
    """The video as (frames, height, width, 3) uint8 RGB."""
    aspect = width / height
    ys, xs = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-aspect, aspect, width), indexing="ij")
    u = np.linspace(0.0, 1.0, frames)
    cx, cy, angles, scales = _trajectory(concept, look, u)
    shakes = rng.normal(0.0, look.shake, size=(frames, 2)) if look.shake else np.zeros((frames, 2))
    video = np.empty((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):
        sx, sy = xs + shakes[t, 0], ys + shakes[t, 1]
        image = _background(look, sx, sy)
        for qx, qy, radius, colour in look.clutter:
            image[(sx - qx) ** 2 + (sy - qy) ** 2 <= radius**2] = colour
        cos, sin = np.cos(angles[t]), np.sin(angles[t])
        dx, dy = (sx - cx[t]) / scales[t], (sy - cy[t]) / scales[t]
        lx, ly = cos * dx + sin * dy, -sin * dx + cos * dy
        mask = _shape_mask(concept.shape, lx, ly)
        image[mask & (lx >= 0)] = look.fg[0]
        image[mask & (lx < 0)] = look.fg[1]
        if look.sensor_noise:
            image += rng.normal(0.0, look.sensor_noise, size=image.shape)
        video[t] = np.clip(image, 0, 255).astype(np.uint8)
    return video
