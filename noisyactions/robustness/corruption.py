"""Video-file corruption on the encoded bytes (paper App. B.2, Table 7, after Chang et al.).

Two modes, both applied to the file as stored, not to decoded frames, so that what a corrupted video
costs is what a real damaged download costs: some files decode fully, some part-way, some not at all.
- random: every bit flips independently with probability p (paper: 1e-4);
- contiguous: every bit of one random contiguous segment of p x the file's length flips (paper: 0.75).

`corrupt_tree` writes a corrupted copy of a whole dataset folder. Each file's damage is drawn from a
generator seeded by (seed, a hash of the file's relative path), so it does not depend on which files
are corrupted, in which order, or whether the run was resumed: the same seed gives the same bytes.
`decode_summary` then turns the cache index over the copy into the report "how many files still
decode fully, partly, not at all".
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from tqdm import tqdm

from noisyactions.atomic import TEMP_SUFFIX, atomic_path, remove_orphaned_temp_files

MODES = ("random", "contiguous")

# Random flips are drawn chunk by chunk so that the drawn positions take bounded memory whatever the
# file's size or p. Part of what a seed means: changing it changes which bits a seed flips.
RANDOM_CHUNK_BYTES = 1 << 20

# Flips drawn as sorted positions while they are at most this rare (one bit in SPARSE_RATIO), as a
# bitmap of the chunk when denser: positions cost per flip, a bitmap per bit.
SPARSE_RATIO = 64

# The finished files of a corrupted copy, one JSON line each after a first line with the parameters:
# a rerun skips what is listed (and still on disk at its size), and refuses other parameters.
JOURNAL_NAME = ".corruption.jsonl"

# The order decode statuses are reported in (noisyactions.video.decode.DecodeReport.status).
STATUSES = ("ok", "partial", "undecodable")

RECORD_COLUMNS = ["path", "bytes", "flipped_bits", "segment_start", "segment_bytes"]


def flip_random_bits(data: np.ndarray, p: float, rng: np.random.Generator) -> int:
    """Flip every bit of `data` (uint8, in place) independently with probability p; returns how many flipped.

    Per chunk, the count is drawn first (Binomial) and then that many distinct positions: the cost
    is in the flips, not in the bits, so a 1e-4 rate over a large file touches only what it damages."""
    _check_buffer(data)
    _check_probability(p, "p")
    flat = data.reshape(-1)
    flipped = 0
    for start in range(0, len(flat), RANDOM_CHUNK_BYTES):
        chunk = flat[start:start + RANDOM_CHUNK_BYTES]
        flipped += _flip_chunk(chunk, p, rng)
    return flipped


def _flip_chunk(chunk: np.ndarray, p: float, rng: np.random.Generator) -> int:
    """Flip a Binomial(8 x len, p) number of distinct bits of one chunk. Above p = 0.5 the bits that
    stay are drawn instead (fewer) and everything else flips, so drawing distinct positions never
    has to collect more than half of them."""
    bits = 8 * len(chunk)
    count = int(rng.binomial(bits, p))
    drawn = bits - count if count > bits // 2 else count
    if drawn != count:
        np.bitwise_xor(chunk, np.uint8(0xFF), out=chunk)
    if drawn * SPARSE_RATIO <= bits:
        _xor_bits(chunk, _distinct_positions(bits, drawn, rng))
    else:
        np.bitwise_xor(chunk, _bit_mask(bits, drawn, rng), out=chunk)
    return count


def _bit_mask(bits: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """Bytes with `count` uniformly chosen distinct bits set, for dense flips: positions drawn with
    replacement into a bitmap until `count` are set (each round draws only what is missing, so it never
    overshoots), where sorting a list of them again every round would dominate."""
    taken = np.zeros(bits, dtype=bool)
    missing = count
    while missing:
        taken[rng.integers(0, bits, missing, dtype=np.int64)] = True
        missing = count - int(np.count_nonzero(taken))
    return np.packbits(taken, bitorder="little")  # bit i of a byte is position 8 x byte + i, as _xor_bits flips it


def _distinct_positions(bits: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` distinct bit positions out of `bits`, uniformly, sorted. Drawn with replacement and
    topped up after removing repeats: rng.choice(replace=False) would permute all `bits` positions,
    memory and time in the file's size instead of the flip count."""
    positions = _sorted_distinct(rng.integers(0, bits, count, dtype=np.int64))
    while len(positions) < count:
        positions = _sorted_distinct(np.concatenate([positions, rng.integers(0, bits, count - len(positions), dtype=np.int64)]))
    return positions


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting: NumPy 2.4's np.unique goes through a hash table, ~100x slower on these."""
    values.sort()
    return values[np.concatenate([[True], values[1:] != values[:-1]])] if len(values) else values


def _xor_bits(chunk: np.ndarray, positions: np.ndarray) -> None:
    """Flip the bits at sorted, distinct `positions`. Bits of one byte are merged into one mask first
    (distinct bits: OR is XOR), so a byte hit twice gets both flips from one fancy-indexed XOR."""
    if not len(positions):
        return
    byte = positions >> 3
    masks = np.left_shift(np.uint8(1), (positions & 7).astype(np.uint8))
    starts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
    chunk[byte[starts]] ^= np.bitwise_or.reduceat(masks, starts)


def flip_contiguous(data: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[int, int]:
    """Flip every bit of one segment of round(fraction x len) bytes starting anywhere it fits (in
    place); returns (start, length)."""
    _check_buffer(data)
    _check_probability(fraction, "fraction")
    flat = data.reshape(-1)
    length = int(round(fraction * len(flat)))
    start = int(rng.integers(0, len(flat) - length + 1))
    segment = flat[start:start + length]
    np.bitwise_xor(segment, np.uint8(0xFF), out=segment)
    return start, length


def corrupt_array(data: np.ndarray, mode: str, p: float, rng: np.random.Generator) -> dict:
    """Corrupt `data` in place; its record: bits flipped, and the segment (start -1 and 0 bytes for
    random mode, which has none)."""
    if mode == "random":
        return {"flipped_bits": flip_random_bits(data, p, rng), "segment_start": -1, "segment_bytes": 0}
    if mode == "contiguous":
        start, length = flip_contiguous(data, p, rng)
        return {"flipped_bits": 8 * length, "segment_start": start, "segment_bytes": length}
    raise ValueError(f"corruption mode {mode!r}: expected one of {', '.join(MODES)}")


def path_rng(seed: int, relative: str) -> np.random.Generator:
    """The generator of one file's damage: from the seed and the file's relative path alone, so that
    a file is damaged the same way whatever else is corrupted and in whichever order."""
    digest = hashlib.sha256(relative.encode("utf-8")).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def corrupt_tree(source_root: Path, target_root: Path, corrupt: list[str], mode: str, p: float, seed: int) -> pd.DataFrame:
    """Copy the dataset folder `source_root` to `target_root`, the files listed in `corrupt` (paths
    relative to source_root) corrupted; one row per corrupted file (RECORD_COLUMNS).

    Sources are only ever opened for reading. Every target is written atomically and listed in the
    journal once written, so a rerun skips what is finished and redoes the rest with the same bytes."""
    source_root, target_root = Path(source_root), Path(target_root)
    _check_parameters(mode, p, seed)
    _check_roots(source_root, target_root)
    files = _relative_files(source_root)
    wanted = _corrupted_set(source_root, corrupt, set(files))
    journal = target_root / JOURNAL_NAME
    parameters = {"mode": mode, "p": float(p), "seed": int(seed)}
    done = _read_journal(journal, parameters)
    remove_orphaned_temp_files(target_root / relative for relative in files)
    with _JournalWriter(journal, parameters) as writer:
        for relative in tqdm(files, desc=f"corrupt {source_root.name} ({mode})", unit="file"):
            source, target = source_root / relative, target_root / relative
            if _finished(done.get(relative), source, target, relative in wanted):
                continue
            entry = _source_stamp(source)
            if relative in wanted:
                entry.update(_write_corrupted(source, target, relative, mode, p, seed))
            else:
                _write_unchanged(source, target)
            done[relative] = writer.add(relative, entry, corrupted=relative in wanted)
    rows = [{column: done[relative][column] for column in RECORD_COLUMNS} for relative in sorted(wanted)]
    return pd.DataFrame(rows, columns=RECORD_COLUMNS).astype({column: np.int64 for column in RECORD_COLUMNS[1:]})


def _check_parameters(mode: str, p: float, seed: int) -> None:
    if mode not in MODES:
        raise ValueError(f"corruption mode {mode!r}: expected one of {', '.join(MODES)}")
    _check_probability(p, "p")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"corruption seed {seed!r}: expected a non-negative integer")


def _check_roots(source_root: Path, target_root: Path) -> None:
    """The copy must not be written into what is being read, nor the other way round."""
    if not source_root.is_dir():
        raise FileNotFoundError(f"{source_root}: source dataset folder not found")
    source, target = source_root.resolve(), target_root.resolve()
    if target == source or source in target.parents or target in source.parents:
        raise ValueError(f"{target_root}: the corrupted copy must lie outside {source_root} and not contain it")


def _relative_files(source_root: Path) -> list[str]:
    """Every regular file under the folder (links followed), as sorted POSIX paths relative to it."""
    files = []
    for folder, _, names in os.walk(source_root, followlinks=True):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                files.append(path.relative_to(source_root).as_posix())
    return sorted(files)


def _corrupted_set(source_root: Path, corrupt: list[str], files: set[str]) -> set[str]:
    """The listed paths, normalised; a path that is not a file of the folder is an error naming it."""
    wanted = set()
    for listed in corrupt:
        relative = PurePosixPath(str(listed).replace(os.sep, "/")).as_posix()
        if relative not in files:
            raise FileNotFoundError(f"{source_root / relative}: listed for corruption but not a file under {source_root}")
        wanted.add(relative)
    return wanted


def _source_stamp(source: Path) -> dict:
    """What a journal entry is checked against: a source edited since is done again."""
    stat = source.stat()
    return {"bytes": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _finished(entry: dict | None, source: Path, target: Path, corrupted: bool) -> bool:
    """Whether an earlier run wrote this target with the same role, from the same source, and it is
    still there at the source's size."""
    if entry is None or entry.get("corrupted") != corrupted or entry.get("bytes") is None:
        return False
    stamp = _source_stamp(source)
    if (entry["bytes"], entry.get("mtime_ns")) != (stamp["bytes"], stamp["mtime_ns"]):
        return False
    return target.is_file() and target.stat().st_size == entry["bytes"]


def _write_corrupted(source: Path, target: Path, relative: str, mode: str, p: float, seed: int) -> dict:
    """Read the source (read-only), corrupt the bytes in memory, write them atomically to a new file:
    never a link, which would share the damage with the source."""
    try:
        data = np.fromfile(source, dtype=np.uint8)
    except OSError as error:
        raise OSError(f"{source}: cannot read for corruption: {error}") from error
    record = corrupt_array(data, mode, p, path_rng(seed, relative))
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        handle.write(memoryview(data))
    return record


def _write_unchanged(source: Path, target: Path) -> None:
    """A hard link where source and target share a filesystem: a corrupted copy of a 100K-video
    dataset then takes only the corrupted files' space, and nothing here writes through a target (a
    corrupted file replaces its name, never its inode). A copy otherwise (another filesystem, or one
    without hard links). Either way atomically."""
    if not _link_atomically(source, target):
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)


def _link_atomically(source: Path, target: Path) -> bool:
    """Link under a temporary name, then rename over the target; False when no link can be made.
    Not through atomic_path: its fsync opens the file for writing, which a read-only source (or one
    not ours) refuses, and a link has no data to sync."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")  # atomic.py's naming: orphans are found
    try:
        os.link(source, temporary)
    except OSError:
        return False
    try:
        os.replace(temporary, target)  # a no-op when the target already is this file: the finally removes the link
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _read_journal(journal: Path, parameters: dict) -> dict[str, dict]:
    """The entries an earlier run left, by relative path; {} when there is none. A last line cut off
    by a crash is ignored (that file is redone); other parameters than this run's are an error."""
    if not journal.exists():
        return {}
    lines = journal.read_text(encoding="utf-8").splitlines()
    entries = []
    for line in lines:
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    if not entries:
        return {}
    if entries[0] != {"parameters": parameters}:
        raise ValueError(f"{journal}: written with {entries[0].get('parameters')}, not {parameters}; remove the copy to redo it")
    return {entry["path"]: entry for entry in entries[1:] if "path" in entry}


class _JournalWriter:
    """Appends one line per finished file, flushed at once: a crash loses at most the last file's
    line, and that file is then redone (with the same bytes). Not fsynced: a line lost to a machine
    crash costs one redone file, and `_finished` checks the file itself anyway."""

    def __init__(self, journal: Path, parameters: dict):
        self.journal, self.parameters = journal, parameters

    def __enter__(self) -> _JournalWriter:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.journal.exists() or self.journal.stat().st_size == 0
        self.handle = open(self.journal, "a", encoding="utf-8")
        if fresh:
            self._write({"parameters": self.parameters})
        elif not self.journal.read_bytes().endswith(b"\n"):
            self.handle.write("\n")  # a line cut off by a crash must not swallow the next one
        return self

    def add(self, relative: str, entry: dict, corrupted: bool) -> dict:
        entry = {"path": relative, "corrupted": corrupted, **entry}
        self._write(entry)
        return entry

    def _write(self, entry: dict) -> None:
        self.handle.write(json.dumps(entry) + "\n")
        self.handle.flush()

    def __exit__(self, *exc) -> None:
        self.handle.close()


def decode_summary(index: pd.DataFrame) -> pd.DataFrame:
    """Videos per split and decode status (ok, partial, undecodable, then any other), and their share
    of the split: how much of a corrupted dataset still decodes fully, partly, not at all. Every known
    status gets a row, zero included, so the report has the same shape for every corruption."""
    missing = {"split", "status"} - set(index.columns)
    if missing:
        raise ValueError(f"decode summary: the index lacks column(s) {', '.join(sorted(missing))}")
    statuses = index["status"].fillna("unknown").astype(str)
    order = list(STATUSES) + sorted(set(statuses) - set(STATUSES))
    splits = sorted(set(index["split"].astype(str)))
    counts = pd.DataFrame({"split": index["split"].astype(str), "status": statuses}).value_counts()
    every = pd.MultiIndex.from_product([splits, order], names=["split", "status"])
    rows = counts.reindex(every, fill_value=0).rename("videos").reset_index()
    totals = rows.groupby("split")["videos"].transform("sum")
    rows["fraction"] = rows["videos"] / totals.where(totals > 0, 1)
    return rows.astype({"videos": np.int64})


def _check_buffer(data: np.ndarray) -> None:
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise TypeError(f"corruption works on uint8 arrays, got {type(data).__name__} {getattr(data, 'dtype', '')}")
    if not data.flags.c_contiguous or not data.flags.writeable:
        raise ValueError("corruption works in place: the array must be C-contiguous and writeable")


def _check_probability(value: float, name: str) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"corruption {name} {value!r}: expected a value in [0, 1]")
