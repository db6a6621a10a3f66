"""The query table the crawl runs: one row per distinct query, with its kind and source datasets.

The vocabulary stage writes it (results/vocabulary/queries.tsv); plain class lists and sentence
files can be added beside it, and their names are normalised the vocabulary's way.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from noisyactions.atomic import atomic_write_text
from noisyactions.vocabulary import normalise_class_name

TABLE_COLUMNS = ("query", "kind", "sources")


class QueryFileError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    query: str
    kind: str  # "class" or "sentence"
    sources: tuple[str, ...]


def _read_table(path: Path) -> list[Query]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        if tuple(reader.fieldnames or ()) != TABLE_COLUMNS:
            raise QueryFileError(f"{path}: header must be the tab-separated columns {TABLE_COLUMNS}, got {reader.fieldnames}")
        queries = []
        for line, row in enumerate(reader, start=2):
            if not row["query"] or row["kind"] not in ("class", "sentence"):
                raise QueryFileError(f"{path}:{line}: needs a query and kind 'class' or 'sentence', got {row}")
            queries.append(Query(row["query"], row["kind"], tuple(s for s in (row["sources"] or "").split(",") if s)))
        return queries


def read_queries(entries: list[dict]) -> list[Query]:
    """Read every configured query file, normalise class names, merge duplicates keeping all sources."""
    merged: dict[tuple[str, str], set[str]] = {}
    for position, entry in enumerate(entries):
        path = Path(entry["path"])
        if not path.is_file():
            raise QueryFileError(f"crawl.queries[{position}].path: {path} does not exist")
        if path.suffix == ".tsv":
            found = _read_table(path)
        else:
            kind, source = entry.get("kind", "class"), entry.get("source", "")
            found = [
                Query(normalise_class_name(line) if kind == "class" else " ".join(line.split()), kind, (source,) if source else ())
                for line in path.read_text().splitlines()
                if line.strip()
            ]
        for query in found:
            if query.query:
                merged.setdefault((query.query, query.kind), set()).update(query.sources)
    return [Query(q, kind, tuple(sorted(sources))) for (q, kind), sources in sorted(merged.items())]


def write_query_table(queries: list[Query], path: Path) -> None:
    lines = ["\t".join(TABLE_COLUMNS)] + [f"{q.query}\t{q.kind}\t{','.join(q.sources)}" for q in queries]
    atomic_write_text(path, "\n".join(lines) + "\n")


def read_query_table(path: Path) -> list[Query]:
    return _read_table(Path(path))
