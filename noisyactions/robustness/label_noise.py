"""Synthetic label noise for the robustness study (paper Sec. 4.3, App. B.2, Table 6): "we change the
labels of x% of examples of a given true label to some other label in the dataset randomly".

The paper calls this noise asymmetric, but the authors' published noisy UCF101 lists flip, in every
class, exactly ceil(rate * n) videos to a uniformly random other class (`per_class_uniform`, the default).
`class_dependent` is the textbook asymmetric noise: each class's flipped videos all go to one other class
of a fixed random derangement. Both flip the same videos' count per class, so only where flips land differs.

Lists are UCF101's ucfTrainTestlist format (`<Class>/<file>.avi <1-based classInd id>`), as the authors
published theirs. The folder in a line names the true class and the id the noisy one, so the clean
loader (video.indexes.ucf_style_index) rightly rejects such a list; fine-tuning reads it through
robustness.relabel instead, which takes the ids.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from noisyactions.atomic import atomic_write_bytes, atomic_write_text
from noisyactions.label_lists import class_index_lines

if TYPE_CHECKING:  # plotting is imported where a report is drawn: training jobs read lists here and have no matplotlib
    import matplotlib.pyplot as plt

MODES = ("per_class_uniform", "class_dependent")
REPORT_OUTPUTS = ("json", "per_class", "confusion", "heatmap")
# rate * n is computed in floats: 0.07 * 100 is 7.000000000000001, whose plain ceil would flip one video too many.
CEIL_TOLERANCE = 1e-9
ANNOTATED_CLASSES_MAX = 20  # above this a heatmap's numbers overlap and hide the colours
TICK_LABELS_MAX = 25


class LabelNoiseError(ValueError):
    pass


def flips_per_class(counts: np.ndarray, rate: float) -> np.ndarray:
    """ceil(rate * n) per class, the published lists' rule, without float error pushing an exact integer up."""
    return np.ceil(rate * np.asarray(counts, dtype=np.float64) - CEIL_TOLERANCE).astype(np.int64)


def _check_arguments(targets: np.ndarray, classes: int, rate: float, mode: str) -> None:
    if mode not in MODES:
        raise LabelNoiseError(f"label noise mode {mode!r} is not one of {', '.join(MODES)}")
    if not 0.0 <= rate <= 1.0:  # also false for NaN
        raise LabelNoiseError(f"label noise rate {rate} is outside [0, 1]")
    if int(classes) != classes or classes < 2:
        raise LabelNoiseError(f"label noise needs at least 2 classes to flip between, got classes={classes}")
    if targets.ndim != 1 or not np.issubdtype(targets.dtype, np.integer):
        raise LabelNoiseError(f"targets must be a 1-D integer array, got dtype {targets.dtype} with shape {targets.shape}")
    outside = np.flatnonzero((targets < 0) | (targets >= classes))
    if outside.size:
        raise LabelNoiseError(f"target {targets[outside[0]]} at position {outside[0]} is outside 0..{classes - 1}")


def random_derangement(size: int, rng: np.random.Generator) -> np.ndarray:
    """A permutation with no fixed point, uniform over all such (rejection: about e tries on average), so no
    class is mapped onto itself and no class receives two classes' flips."""
    identity = np.arange(size)
    while True:
        candidate = rng.permutation(size)
        if not np.any(candidate == identity):
            return candidate


def _videos_to_flip(targets: np.ndarray, classes: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Positions of exactly ceil(rate * n_c) videos of every class c, a uniform random subset within it:
    sorting by (class, random key) shuffles each class, whose first k are then taken."""
    counts = np.bincount(targets, minlength=classes)
    order = np.lexsort((rng.random(targets.size), targets))
    sorted_targets = targets[order]
    rank_in_class = np.arange(targets.size) - (np.cumsum(counts) - counts)[sorted_targets]
    return order[rank_in_class < flips_per_class(counts, rate)[sorted_targets]]


def noisy_targets(targets: np.ndarray, classes: int, rate: float, mode: str, rng: np.random.Generator) -> np.ndarray:
    """0-based targets with ceil(rate * n_c) videos of each class c relabelled to another class (see MODES);
    the input is left as it was. Always int64: a flipped label may not fit the input's dtype."""
    targets = np.asarray(targets)
    _check_arguments(targets, classes, rate, mode)
    targets = targets.astype(np.int64)
    mapping = random_derangement(classes, rng) if mode == "class_dependent" else None
    flipped = _videos_to_flip(targets, classes, rate, rng)
    noisy = targets.copy()
    if mapping is None:
        # An offset in 1..classes-1 reaches every other class once and never the true one.
        noisy[flipped] = (targets[flipped] + rng.integers(1, classes, size=flipped.size)) % classes
    else:
        noisy[flipped] = mapping[targets[flipped]]
    return noisy


def _non_empty_lines(path: Path) -> list[tuple[int, str]]:
    if not Path(path).is_file():
        raise LabelNoiseError(f"{path} does not exist")
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [(number, line.strip()) for number, line in enumerate(lines, start=1) if line.strip()]


def read_ucf_class_index(class_index: Path) -> list[str]:
    """Class names of classInd.txt (`<id> <Class>`); ids must run 1, 2, ... in order, because a list's id
    becomes a position in this list."""
    if not Path(class_index).is_file():
        raise LabelNoiseError(f"{class_index} does not exist")
    names = []
    for number, index, name in class_index_lines(class_index):
        if int(index) != len(names) + 1:
            raise LabelNoiseError(f"{class_index}:{number}: class id {index} should be {len(names) + 1} (ids run 1, 2, ... in order)")
        names.append(name.strip())
    if len(names) < 2:
        raise LabelNoiseError(f"{class_index}: needs at least 2 classes, has {len(names)}")
    return names


def read_ucf_trainlist(list_path: Path, class_index: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """(relative paths as written, 0-based targets from the list's ids, class names in classInd order).

    Targets come from the ids, not the folders: a noisy list's id disagrees with its folder on purpose."""
    class_names = read_ucf_class_index(class_index)
    relative_paths, targets = [], []
    for number, line in _non_empty_lines(list_path):
        relative, _, class_id = line.rpartition(" ")
        if not relative.strip() or not class_id.isdigit():
            raise LabelNoiseError(f"{list_path}:{number}: expected '<Class>/<file>.avi <id>', got {line!r}")
        if not 1 <= int(class_id) <= len(class_names):
            raise LabelNoiseError(f"{list_path}:{number}: class id {class_id} is not in {class_index} (1..{len(class_names)})")
        relative_paths.append(relative.strip())
        targets.append(int(class_id) - 1)
    if not relative_paths:
        raise LabelNoiseError(f"{list_path} lists no videos")
    return relative_paths, np.asarray(targets, dtype=np.int64), class_names


def write_ucf_trainlist(path: Path, relative_paths: list[str], targets: np.ndarray) -> None:
    """The trainlist format back (`<relative> <target + 1>`, LF line ends), so readers of the clean list read it."""
    targets = np.asarray(targets)
    if len(relative_paths) != len(targets):
        raise LabelNoiseError(f"{path}: {len(relative_paths)} paths but {len(targets)} targets")
    if len(targets) and targets.min() < 0:
        raise LabelNoiseError(f"{path}: target {targets.min()} is negative (targets are 0-based)")
    atomic_write_text(Path(path), "".join(f"{relative} {int(target) + 1}\n" for relative, target in zip(relative_paths, targets)))


def _check_report_inputs(clean: np.ndarray, noisy: np.ndarray, classes: int) -> None:
    if clean.shape != noisy.shape or clean.ndim != 1 or clean.size == 0:
        raise LabelNoiseError(f"clean and noisy targets must be equal-length, non-empty 1-D arrays, "
                              f"got shapes {clean.shape} and {noisy.shape}")
    for name, values in (("clean", clean), ("noisy", noisy)):
        if values.min() < 0 or values.max() >= classes:
            raise LabelNoiseError(f"{name} target {values.min() if values.min() < 0 else values.max()} is outside 0..{classes - 1}")


def noise_report(clean: np.ndarray, noisy: np.ndarray, class_names: list[str]) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """(summary, per-class flips, confusion counts true x noisy): what a noisy list really did, to check
    against the rate asked for and to show beside Table 6."""
    clean, noisy, classes = np.asarray(clean, dtype=np.int64), np.asarray(noisy, dtype=np.int64), len(class_names)
    _check_report_inputs(clean, noisy, classes)
    counts = np.bincount(clean * classes + noisy, minlength=classes * classes).reshape(classes, classes)
    confusion = pd.DataFrame(counts, index=pd.Index(class_names, name="true"), columns=pd.Index(class_names, name="noisy"))
    videos = counts.sum(axis=1)
    flipped = videos - np.diag(counts)
    rates = np.where(videos > 0, flipped / np.maximum(videos, 1), np.nan)  # a class without videos has no rate
    per_class = pd.DataFrame({"class": class_names, "videos": videos, "flipped": flipped, "realised_rate": rates})
    summary = {
        "videos": int(videos.sum()),
        "flipped": int(flipped.sum()),
        "realised_rate": float(flipped.sum() / videos.sum()),
        "classes": classes,
        "classes_with_videos": int((videos > 0).sum()),
        "per_class_rate_min": float(np.nanmin(rates)),
        "per_class_rate_max": float(np.nanmax(rates)),
    }
    return summary, per_class, confusion


def _tick_step(classes: int) -> int:
    return max(1, math.ceil(classes / TICK_LABELS_MAX))


def confusion_heatmap(confusion: pd.DataFrame, title: str) -> plt.Figure:
    """The confusion matrix, each row divided by its class's videos so small and large classes compare;
    numbers only where they fit, and every k-th class name so 101 of them stay readable."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    rows = confusion.to_numpy(dtype=np.float64)
    normalised = pd.DataFrame(rows / np.maximum(rows.sum(axis=1, keepdims=True), 1), index=confusion.index, columns=confusion.columns)
    classes = len(confusion)
    side = min(16.0, 3.0 + 0.12 * classes)
    figure, axes = plt.subplots(figsize=(side + 1.5, side))
    sns.heatmap(normalised, ax=axes, vmin=0, vmax=1, cmap="viridis", square=True,
                annot=classes <= ANNOTATED_CLASSES_MAX, fmt=".2f",
                xticklabels=_tick_step(classes), yticklabels=_tick_step(classes),
                cbar_kws={"label": "fraction of the true class's videos"})
    axes.set(title=title, xlabel="noisy label", ylabel="true label")
    return figure


def figure_png(figure: plt.Figure) -> bytes:
    """PNG bytes, for an atomic write; the figure is closed, so a workflow making many reports holds none."""
    import matplotlib.pyplot as plt

    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=120, bbox_inches="tight")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def write_noise_report(clean: np.ndarray, noisy: np.ndarray, class_names: list[str], rate: float, mode: str, outputs: dict) -> dict:
    """The report files named by `outputs` (keys json, per_class, confusion, heatmap); returns the JSON's summary.
    `max_flips_off_rule` is the largest |flipped - ceil(rate * n)| over classes: 0 for a list this module made."""
    missing = [key for key in REPORT_OUTPUTS if key not in outputs]
    if missing:
        raise LabelNoiseError(f"label noise report outputs lack key {missing[0]!r} (needs {', '.join(REPORT_OUTPUTS)})")
    summary, per_class, confusion = noise_report(clean, noisy, class_names)
    off_rule = np.abs(per_class["flipped"].to_numpy() - flips_per_class(per_class["videos"].to_numpy(), rate))
    summary = {"rate": float(rate), "mode": mode, **summary, "max_flips_off_rule": int(off_rule.max())}
    atomic_write_text(Path(outputs["json"]), json.dumps(summary, indent=2) + "\n")
    atomic_write_text(Path(outputs["per_class"]), per_class.to_csv(index=False))
    atomic_write_text(Path(outputs["confusion"]), confusion.to_csv())
    title = f"Label noise {mode}, rate {rate:g}: {summary['flipped']:,} of {summary['videos']:,} videos relabelled"
    atomic_write_bytes(Path(outputs["heatmap"]), figure_png(confusion_heatmap(confusion, title)))
    return summary


def make_noisy_trainlist(list_path: Path, class_index: Path, rate: float, mode: str, seed: int, out_list: Path, outputs: dict) -> dict:
    """A noisy copy of a UCF101-format trainlist and its report; returns the report's summary.

    The generator is seeded by (seed, rate in thousandths), so each rate's list comes out the same
    whichever other rates are made, and in whatever order."""
    if Path(out_list).resolve() == Path(list_path).resolve():
        raise LabelNoiseError(f"{out_list}: the noisy list would overwrite the clean list it is made from")
    if not 0.0 <= rate <= 1.0:
        raise LabelNoiseError(f"label noise rate {rate} is outside [0, 1]")
    relative_paths, clean, class_names = read_ucf_trainlist(list_path, class_index)
    noisy = noisy_targets(clean, len(class_names), rate, mode, np.random.default_rng([seed, round(rate * 1000)]))
    write_ucf_trainlist(out_list, relative_paths, noisy)
    return write_noise_report(clean, noisy, class_names, rate, mode, outputs)
