"""Download each crawled video in the preferred size order, safely and resumably.

A video is streamed to a temporary file with a size cap, every URL and redirect is checked against
the host allowlist (a crafted URL must not make the crawler fetch from anywhere else), the file must
decode (PyAV probe) before it is renamed into place, and each video ends with a status and a reason.
Existing files were renamed into place complete, so resume keeps them. The temporary files of a shard's
job are written to a folder of that job's own under the video root (`Downloader.partial_folder`), which
the job empties when it starts: what a killed run left half-written goes, and nothing of another job's.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq
import requests
from tqdm import tqdm

from noisyactions.atomic import atomic_path, atomic_write_text
from noisyactions.crawl.client import http_status_reason
from noisyactions.crawl.journal import Journal
from noisyactions.crawl.records import OK, status_summary
from noisyactions.crawl.retry import RetriesExhausted, RetryPolicy
from noisyactions.video.probe import UndecodableVideo, probe_video

log = logging.getLogger(__name__)

DOWNLOAD_SCHEMA = pa.schema(
    [
        ("photo_id", pa.string()),
        ("status", pa.string()),  # ok | no_metadata | no_sources | host_not_allowed | too_large | undecodable | not_found | failed
        ("error", pa.string()),
        ("size_label", pa.string()),
        ("path", pa.string()),
        ("bytes", pa.int64()),
        ("sha256", pa.string()),
        ("duration", pa.float64()),
        ("width", pa.int32()),
        ("height", pa.int32()),
    ]
)
MAX_REDIRECTS = 5
PARTIAL_FOLDER = ".partial"


class DownloadRefused(Exception):
    """A permanent reason not to keep this file: the status says which."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status = status


class TransientHTTP(Exception):
    pass


def host_allowed(url: str, allowed_hosts: list[str]) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == pattern or (pattern.startswith("*.") and fnmatch.fnmatch(host, pattern)) for pattern in allowed_hosts)


def _transient(error: Exception) -> str | None:
    if isinstance(error, TransientHTTP):
        return str(error)
    if isinstance(error, (requests.exceptions.Timeout, requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return type(error).__name__
    return None


class Downloader:
    def __init__(self, download: dict, retry: RetryPolicy, timeout: float, session: requests.Session | None = None):
        self.sizes, self.max_bytes = download["sizes"], download["max_bytes"]
        self.allowed_hosts, self.root = download["allowed_hosts"], Path(download["root"])
        self.retry, self.timeout = retry, timeout
        self.session = session or requests.Session()

    def target(self, photo_id: str) -> Path:
        return self.root / f"{photo_id}.mp4"

    def partial_folder(self, shard_table: Path) -> Path:
        """Where the job writing `shard_table` downloads to before renaming into place. Under the video
        root, so the rename stays on one filesystem (atomic); a folder per job, so a job removes what its
        killed runs left by removing the folder, without listing the root (millions of videos at paper
        scale) and without touching another job's live files. Named by the table's absolute path: two
        workdirs sharing a video root have shards of the same name."""
        shard_table = Path(shard_table)
        table_key = hashlib.sha256(str(shard_table.resolve()).encode()).hexdigest()[:16]
        return self.root / PARTIAL_FOLDER / f"{shard_table.stem}-{table_key}"

    @contextmanager
    def fresh_partial_folder(self, shard_table: Path) -> Iterator[Path]:
        """The job's partial folder, emptied of what a killed run of it left; removed when the job ends."""
        folder = self.partial_folder(shard_table)
        if folder.exists():
            log.info("removing %d partial downloads left by an interrupted run", sum(1 for _ in folder.iterdir()))
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        yield folder
        shutil.rmtree(folder)

    def _fetch(self, url: str, tmp: Path) -> None:
        """GET with redirects followed by hand (each hop checked), streamed under the size cap."""
        for _ in range(MAX_REDIRECTS + 1):
            if not host_allowed(url, self.allowed_hosts):
                raise DownloadRefused("host_not_allowed", f"{urlsplit(url).hostname} is not in crawl.download.allowed_hosts")
            with self.session.get(url, stream=True, allow_redirects=False, timeout=self.timeout) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status_code == 404:
                    raise DownloadRefused("not_found", f"HTTP 404 for {url}")
                reason = http_status_reason(response.status_code)
                if reason:
                    raise TransientHTTP(reason)
                if response.status_code != 200:
                    raise DownloadRefused("failed", f"HTTP {response.status_code} for {url}")
                declared = int(response.headers.get("Content-Length") or 0)
                if declared > self.max_bytes:
                    raise DownloadRefused("too_large", f"{declared} bytes > crawl.download.max_bytes {self.max_bytes}")
                written = 0
                with open(tmp, "wb") as handle:
                    for chunk in response.iter_content(1 << 16):
                        written += len(chunk)
                        if written > self.max_bytes:
                            raise DownloadRefused("too_large", f"more than crawl.download.max_bytes {self.max_bytes} bytes")
                        handle.write(chunk)
                return
        raise DownloadRefused("failed", f"more than {MAX_REDIRECTS} redirects")

    def download(self, record: dict, partial_folder: Path) -> dict:
        """Download one video, streamed to a temporary file in `partial_folder` (see `partial_folder`)."""
        result = {name: None for name in DOWNLOAD_SCHEMA.names}
        result.update(photo_id=record["photo_id"], error="")
        if record["status"] != OK:
            return {**result, "status": "no_metadata", "error": f"metadata status {record['status']}"}
        offered = {source["label"]: source["url"] for source in record["sources"]}
        choices = [label for label in self.sizes if label in offered]
        if not choices:
            return {**result, "status": "no_sources", "error": f"none of {self.sizes} offered"}
        target = self.target(record["photo_id"])
        errors = []
        status = "failed"
        for label in choices:
            try:
                if not target.exists():
                    with atomic_path(target, partial_folder) as tmp:
                        self.retry.run(lambda: self._fetch(offered[label], tmp), _transient, f"download {record['photo_id']}")
                        probe_video(tmp)  # an undecodable file never reaches the target path
                probe = probe_video(target)
            except (DownloadRefused, UndecodableVideo, RetriesExhausted) as error:
                status = getattr(error, "status", "undecodable" if isinstance(error, UndecodableVideo) else "failed")
                errors.append(f"{label}: {error}")
                continue
            data = target.read_bytes()
            return {
                **result, "status": OK, "size_label": label, "path": str(target), "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(), "duration": probe.duration_seconds, "width": probe.width, "height": probe.height,
            }
        return {**result, "status": status, "error": "; ".join(errors)}


def download_shard(metadata_path: Path, table_path: Path, stats_path: Path, journal: Journal, downloader: Downloader) -> dict:
    """Download every video of a metadata shard; journalled, so a killed run resumes where it stopped."""
    records = pq.read_table(metadata_path).to_pylist()
    done = {e["photo_id"]: e for e in journal.entries()}
    started = time.monotonic()
    with downloader.fresh_partial_folder(table_path) as partial_folder:
        for record in tqdm([r for r in records if r["photo_id"] not in done], desc=f"download {metadata_path.stem}", unit="video"):
            result = downloader.download(record, partial_folder)
            journal.append(result)
            done[record["photo_id"]] = result
    results = [done[r["photo_id"]] for r in records]
    stats = {
        **status_summary(results),
        "bytes": sum(r["bytes"] or 0 for r in results),
        "retries": dict(downloader.retry.retries),
        "wall_seconds": round(time.monotonic() - started, 3),
    }
    with atomic_path(table_path) as tmp:
        pq.write_table(pa.Table.from_pylist(results, schema=DOWNLOAD_SCHEMA), tmp)
    atomic_write_text(stats_path, json.dumps(stats, indent=2) + "\n")
    journal.remove()
    return stats


def retry_failed_downloads(metadata_path: Path, table_path: Path, stats_path: Path, downloader: Downloader) -> int:
    """Download again the videos that failed transiently, or lacked metadata that a retry has since fetched."""
    records = {r["photo_id"]: r for r in pq.read_table(metadata_path).to_pylist()}
    results = pq.read_table(table_path).to_pylist()
    todo = [
        i for i, r in enumerate(results)
        if r["status"] == "failed" or (r["status"] == "no_metadata" and records[r["photo_id"]]["status"] == OK)
    ]
    if not todo:
        return 0
    stats = json.loads(stats_path.read_text())
    started = time.monotonic()
    with downloader.fresh_partial_folder(table_path) as partial_folder:
        for i in tqdm(todo, desc=f"retry {table_path.stem}", unit="video"):
            results[i] = downloader.download(records[results[i]["photo_id"]], partial_folder)
    stats.update(
        **status_summary(results),
        bytes=sum(r["bytes"] or 0 for r in results),
        wall_seconds=round(stats["wall_seconds"] + time.monotonic() - started, 3),
    )
    with atomic_path(table_path) as tmp:
        pq.write_table(pa.Table.from_pylist(results, schema=DOWNLOAD_SCHEMA), tmp)
    atomic_write_text(stats_path, json.dumps(stats, indent=2) + "\n")
    return len(todo)
