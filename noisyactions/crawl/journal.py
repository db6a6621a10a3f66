"""An append-only JSON-lines journal: the resume point of a long step.

Each finished item is appended and fsynced before the step moves on, so a step killed at any
moment (SIGKILL included) resumes from the last whole line; a half-written last line is dropped.
A journal that outlives its step (the search's) can be rewritten to the entries still wanted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterator

from noisyactions.atomic import atomic_path, remove_orphaned_temp_files


def _line(entry: dict) -> bytes:
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def entries(self) -> Iterator[dict]:
        """Every complete entry; a torn last line (the write a kill interrupted) is cut off the file."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            with open(self.path, "rb+") as handle:
                handle.truncate(complete)
        for line in data[:complete].splitlines():
            if line.strip():
                yield json.loads(line)

    def append(self, entry: dict) -> None:
        with open(self.path, "ab") as handle:
            handle.write(_line(entry))
            handle.flush()
            os.fsync(handle.fileno())

    def rewrite(self, entries: list[dict]) -> None:
        """Replace the journal by `entries`, atomically: a kill leaves the old journal or the new one."""
        remove_orphaned_temp_files([self.path])  # of a rewrite a kill interrupted
        with atomic_path(self.path) as tmp:
            tmp.write_bytes(b"".join(_line(entry) for entry in entries))

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
