"""Training on noisy labels: a downstream set's cache index with its training labels taken from another list."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from noisyactions.robustness.label_noise import read_ucf_trainlist


def relabel_training_videos(index: pd.DataFrame, train_labels: Path, class_index: Path) -> pd.DataFrame:
    """A downstream cache index whose training rows take the targets of a (noisy) training list in
    UCF101's format. Rows are matched by file name (UCF101's are unique); every training row must be in
    the list, and the test rows keep their labels."""
    relative, targets, _ = read_ucf_trainlist(train_labels, class_index)
    by_name = {Path(path).name: int(target) for path, target in zip(relative, targets)}
    if len(by_name) != len(relative):
        raise ValueError(f"{train_labels}: file names repeat, so rows cannot be matched by name")
    train = index["split"] == "train"
    names = index.loc[train, "path"].map(lambda path: Path(path).name)
    missing = names[~names.isin(by_name.keys())]
    if len(missing):
        raise ValueError(f"{train_labels} has no label for {len(missing)} training videos of the cache index (first: {missing.iloc[0]})")
    index = index.copy()
    index.loc[train, "target"] = names.map(by_name).to_numpy(dtype=np.int64)
    return index
