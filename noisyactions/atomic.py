"""Atomic file writes: a reader (or a resumed run) never sees half a file.

Write to a temporary file in the same directory (or another one on the same filesystem), fsync, then
rename over the target; a crash leaves either the old file or none, never a truncated one. A SIGKILL
(or a machine crash) leaves the temporary file too, since no cleanup runs: whoever is the only writer
of a target removes what is left for it when it starts again (`remove_orphaned_temp_files`, or a
folder of temporary files of its own), so repeated kills do not pile up partial files.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

TEMP_SUFFIX = ".tmp"


@contextmanager
def atomic_path(path: Path, temp_dir: Path | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path` (or in `temp_dir`, which must be on the same filesystem for
    the rename to be atomic); on success it is renamed to `path`, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(temp_dir) if temp_dir is not None else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _target_of(temp_name: str) -> str | None:
    """'.<target>.<random>.tmp' (atomic_path's names; mkstemp's random part has no dot) -> '<target>'."""
    if not (temp_name.startswith(".") and temp_name.endswith(TEMP_SUFFIX)):
        return None
    target, dot, _ = temp_name[1 : -len(TEMP_SUFFIX)].rpartition(".")
    return target if dot else None


def remove_orphaned_temp_files(targets: Iterable[Path]) -> int:
    """Remove the temporary files `atomic_path` left for these target paths; returns how many.

    Only for targets nobody else is writing now (a job's own outputs): a live writer's temporary file
    would go too. One listing per folder, however many targets.
    """
    by_folder: dict[Path, set[str]] = {}
    for target in map(Path, targets):
        by_folder.setdefault(target.parent, set()).add(target.name)
    removed = 0
    for folder, names in by_folder.items():
        try:
            listing = os.scandir(folder)
        except FileNotFoundError:
            continue
        with listing:
            for item in listing:
                if _target_of(item.name) in names:
                    Path(item.path).unlink(missing_ok=True)
                    removed += 1
    return removed
