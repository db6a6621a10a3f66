"""The embedded server's view of the web corpus: lookup by id and Flickr-style text search.

Search matches like Flickr's free-text search: a video is found when every word of the query occurs
in its title, description or tags (a leading '-' excludes a word). Results are sorted once per
(query, sort) and cached, then sliced by upload or taken date with bisection, so a page costs
microseconds and the HTTP layer, not the search, bounds the server's call rate.
"""

from __future__ import annotations

import bisect
import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyarrow.parquet as pq

_WORD = re.compile(r"[a-z0-9]+")

SORTS = {
    "date-posted-asc": ("date_upload", False),
    "date-posted-desc": ("date_upload", True),
    "date-taken-asc": ("taken_ts", False),
    "date-taken-desc": ("taken_ts", True),
    "interestingness-desc": ("views", True),
    "interestingness-asc": ("views", False),
    "relevance": ("date_upload", True),
}
DEFAULT_SORT = "date-posted-desc"  # Flickr's default for flickr.photos.search


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def parse_date(value: str) -> int:
    """A unix timestamp or a MySQL datetime ('2012-05-01' or '2012-05-01 10:00:00'), as Flickr takes."""
    value = value.strip()
    if value.lstrip("-").isdigit():
        return int(value)
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return calendar.timegm(dt.datetime.strptime(value, pattern).timetuple())
        except ValueError:
            continue
    raise ValueError(f"cannot read date {value!r}")


@dataclass(frozen=True)
class SearchPage:
    photos: list[dict]
    total: int


class Catalog:
    """The videos the server knows, indexed for search, with the files that back their play URLs."""

    def __init__(self, metadata_path: Path, videos_dir: Path):
        self.videos_dir = Path(videos_dir)
        self.photos: list[dict] = pq.read_table(metadata_path).to_pylist()
        self.by_id = {photo["photo_id"]: photo for photo in self.photos}
        self._index: dict[str, set[int]] = {}
        self._tag_index: dict[str, set[int]] = {}
        for position, photo in enumerate(self.photos):
            photo["taken_ts"] = parse_date(photo["date_taken"])
            text = " ".join([photo["title"], photo["description"], " ".join(photo["tags"])])
            for word in set(words(text)):
                self._index.setdefault(word, set()).add(position)
            for tag in photo["tags"]:
                self._tag_index.setdefault(tag.lower(), set()).add(position)

    def video_path(self, photo_id: str) -> Path:
        return self.videos_dir / f"{photo_id}.mp4"

    @lru_cache(maxsize=4096)
    def _matches(self, text: str, tags: str, tag_mode: str, sort: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Positions of matching photos in sort order, and their sort keys (ascending for bisection)."""
        everyone = set(range(len(self.photos)))
        found = everyone
        for word in text.split():
            if word.startswith("-"):
                found = found - self._index.get(word[1:], set())
            else:
                found = found & self._index.get(word, set())
        if tags:
            tag_sets = [self._tag_index.get(tag, set()) for tag in tags.split(",") if tag]
            if tag_mode == "all":
                for tag_set in tag_sets:
                    found = found & tag_set
            else:
                found = found & set().union(*tag_sets)
        field, descending = SORTS.get(sort, SORTS[DEFAULT_SORT])
        ordered = sorted(found, key=lambda p: (self.photos[p][field], int(self.photos[p]["photo_id"])), reverse=descending)
        return tuple(ordered), tuple(self.photos[p][field] for p in ordered)

    def search(
        self,
        text: str = "",
        tags: str = "",
        tag_mode: str = "any",
        sort: str = DEFAULT_SORT,
        min_upload: int | None = None,
        max_upload: int | None = None,
        min_taken: int | None = None,
        max_taken: int | None = None,
        page: int = 1,
        per_page: int = 100,
        cap: int = 4000,
    ) -> SearchPage:
        """One page of results; beyond `cap` results, pages wrap around and repeat, as Flickr's do."""
        normalised_text = " ".join(("-" if w.startswith("-") else "") + "".join(words(w)) for w in text.split())
        normalised_tags = ",".join("".join(words(t)) for t in tags.split(","))
        ordered, keys = self._matches(normalised_text.strip(), normalised_tags.strip(","), tag_mode, sort)
        field = SORTS.get(sort, SORTS[DEFAULT_SORT])[0]
        positions = list(ordered)
        # Date filters are inclusive; bisect when the sort key is the filtered date, filter otherwise.
        for key_field, low, high in (("date_upload", min_upload, max_upload), ("taken_ts", min_taken, max_taken)):
            if low is None and high is None:
                continue
            if key_field == field and len(positions) == len(ordered):
                positions = self._bisect(ordered, keys, low, high, SORTS.get(sort, SORTS[DEFAULT_SORT])[1])
            else:
                positions = [
                    p for p in positions
                    if (low is None or self.photos[p][key_field] >= low) and (high is None or self.photos[p][key_field] <= high)
                ]
        total = len(positions)
        reachable = min(total, cap)
        offset = (page - 1) * per_page
        if reachable and offset >= reachable:
            offset %= reachable
        chosen = positions[offset : min(offset + per_page, reachable)]
        return SearchPage([self.photos[p] for p in chosen], total)

    @staticmethod
    def _bisect(ordered, keys, low, high, descending):
        if descending:
            ordered, keys = ordered[::-1], keys[::-1]
        start = 0 if low is None else bisect.bisect_left(keys, low)
        stop = len(keys) if high is None else bisect.bisect_right(keys, high)
        selected = list(ordered[start:stop])
        return selected[::-1] if descending else selected
