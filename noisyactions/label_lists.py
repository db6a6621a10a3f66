"""The authors' published label-list format (Data/noisyActionsMultiTrainTestList of their repository):
trainlist<name>.txt lines `<flickr id> <label>|<label>|...`, with 1-based indices into
classInd<name>.txt lines `<index> <label name>` (case-sensitive: "pond" and "Pond" differ).

Our splits are written in it and theirs are read with it, so every later stage reads one format."""

from __future__ import annotations

from pathlib import Path

from noisyactions.atomic import atomic_write_text


class LabelListError(ValueError):
    pass


def label_list_paths(folder: Path | str, name: str) -> tuple[Path, Path]:
    """trainlist<name>.txt and classInd<name>.txt in `folder`: the one place these names are built
    (the workflow's rules, the splits job and the official lists all use it)."""
    return Path(folder) / f"trainlist{name}.txt", Path(folder) / f"classInd{name}.txt"


def class_index_lines(path: Path) -> list[tuple[int, str, str]]:
    """(line number, index, name) of every non-empty `<index> <label name>` line of a classInd file, the
    format the authors' lists and UCF101's ucfTrainTestlist share; a malformed line names file and line."""
    entries = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            index, _, name = line.strip().partition(" ")
            if not index.isdigit() or not name:
                raise LabelListError(f"{path}:{number}: expected '<index> <label name>', got {line!r}")
            entries.append((number, index, name))
    return entries


def read_class_index(path: Path) -> dict[str, str]:
    return {index: name for _, index, name in class_index_lines(path)}


def _entries(list_path: Path) -> list[tuple[int, str, list[str]]]:
    """(line number, video id, label indices as written) for every non-empty line."""
    entries = []
    for number, line in enumerate(Path(list_path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        photo_id, _, row = line.strip().partition(" ")
        if not photo_id.isdigit():
            raise LabelListError(f"{list_path}:{number}: expected a Flickr video id first, got {line!r}")
        entries.append((number, photo_id, [i for i in row.split("|") if i]))
    return entries


def read_label_indices(list_path: Path) -> tuple[list[str], list[list[str]]]:
    """Video ids and their label indices as written (strings, in the list's order)."""
    entries = _entries(list_path)
    return [photo_id for _, photo_id, _ in entries], [row for *_, row in entries]


def read_label_list_with_indices(list_path: Path, class_index_path: Path) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """Video ids, their label indices as written and their label names, from one read of the list: for
    callers that keep the authors' indices and need the names (every index checked against the class index)."""
    names = read_class_index(class_index_path)
    entries = _entries(list_path)
    for number, _, row in entries:
        unknown = [i for i in row if i not in names]
        if unknown:
            raise LabelListError(f"{list_path}:{number}: label index {unknown[0]} is not in {class_index_path}")
    indices = [row for *_, row in entries]
    return [photo_id for _, photo_id, _ in entries], indices, [[names[i] for i in row] for row in indices]


def read_label_list(list_path: Path, class_index_path: Path | None) -> tuple[list[str], list[list[str]]]:
    """Video ids and their label names (raw indices when there is no class index), each video's labels
    in the list's order: the order the crawl found them, which CCE-Mask's label choice follows."""
    if class_index_path is None:
        return read_label_indices(list_path)
    ids, _, labels = read_label_list_with_indices(list_path, class_index_path)
    return ids, labels


def write_label_indices(ids: list[str], indices: list[list[str]], list_path: Path) -> None:
    """A list in the authors' format from label indices (for lists restricted to some of their videos)."""
    atomic_write_text(list_path, "".join(f"{i} {'|'.join(row)}\n" for i, row in zip(ids, indices)))


def write_label_list(ids: list[str], labels: list[list[str]], list_path: Path, class_index_path: Path) -> None:
    """Class index numbered in sorted name order; each video's labels keep their order."""
    names = sorted({label for row in labels for label in row})
    index = {name: k for k, name in enumerate(names, start=1)}
    atomic_write_text(class_index_path, "".join(f"{k} {name}\n" for name, k in index.items()))
    write_label_indices(ids, [[str(index[label]) for label in row] for row in labels], list_path)
