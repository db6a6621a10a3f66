"""Where each part of the embedded world lives under `world.root`: the one place that says so.

The Snakefile, the server and the tests all ask this class, so a path is never spelled twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WorldLayout:
    root: Path

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def web_metadata(self) -> Path:
        """The web corpus table the embedded Flickr server serves (with the truth columns)."""
        return self.root / "web" / "metadata.parquet"

    @property
    def web_videos(self) -> Path:
        return self.root / "web" / "videos"

    @property
    def class_lists(self) -> Path:
        """One class-name file per naming convention, as the real datasets publish them."""
        return self.root / "class_lists"

    def downstream(self, name: str) -> Path:
        """ucf101/, hmdb51/ or curated/: a downstream dataset in its official on-disk format."""
        return self.root / name
