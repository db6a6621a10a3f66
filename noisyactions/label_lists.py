"""The authors' published label-list format (Data/noisyActionsMultiTrainTestList of their repository):
trainlist<name>.txt lines `<flickr id> <label>|<label>|...`, with 1-based indices into
classInd<name>.txt lines `<index> <label name>` (case-sensitive: "pond" and "Pond" differ).

Our splits are written in it and theirs are read with it, so every later stage reads one format."""

from __future__ import annotations

from pathlib import Path

from noisyactions.atomic import atomic_write_text


class LabelListError(ValueError):
    pass


def read_class_index(path: Path) -> dict[str, str]:
    names = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            index, _, name = line.strip().partition(" ")
            if not index.isdigit() or not name:
                raise LabelListError(f"{path}:{number}: expected '<index> <label name>', got {line!r}")
            names[index] = name
    return names


def read_label_list(list_path: Path, class_index_path: Path | None) -> tuple[list[str], list[list[str]]]:
    """Video ids and their label names (raw indices when there is no class index)."""
    names = read_class_index(class_index_path) if class_index_path is not None else None
    ids, labels = [], []
    for number, line in enumerate(Path(list_path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        photo_id, _, indices = line.strip().partition(" ")
        if not photo_id.isdigit():
            raise LabelListError(f"{list_path}:{number}: expected a Flickr video id first, got {line!r}")
        row = [i for i in indices.split("|") if i]
        if names is not None:
            unknown = [i for i in row if i not in names]
            if unknown:
                raise LabelListError(f"{list_path}:{number}: label index {unknown[0]} is not in {class_index_path}")
            row = [names[i] for i in row]
        ids.append(photo_id)
        labels.append(row)
    return ids, labels


def write_label_list(ids: list[str], labels: list[list[str]], list_path: Path, class_index_path: Path) -> None:
    names = sorted({label for row in labels for label in row})
    index = {name: k for k, name in enumerate(names, start=1)}
    atomic_write_text(class_index_path, "".join(f"{k} {name}\n" for name, k in index.items()))
    atomic_write_text(list_path, "".join(f"{i} {'|'.join(str(index[label]) for label in row)}\n" for i, row in zip(ids, labels)))
