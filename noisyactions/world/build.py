"""Build the embedded world's parts from the `world` section of the config; one function per rule."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
import logging
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from tqdm import tqdm

from noisyactions.atomic import atomic_path, atomic_write_text
from noisyactions.video.encode import write_video
from noisyactions.world import downstream
from noisyactions.world.concepts import build_concepts
from noisyactions.world.render import render_frames, sample_appearance
from noisyactions.world.web import generate_web_corpus

log = logging.getLogger(__name__)


def write_web_metadata(world: dict, path: Path) -> int:
    """The web corpus table the embedded Flickr server serves; returns its row count."""
    table = generate_web_corpus(build_concepts(world["concepts"]), world["web"], world["seed"])
    with atomic_path(Path(path)) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    log.info("%d web videos described in %s", table.num_rows, path)
    return table.num_rows


def write_class_lists(world: dict, out_dir: Path) -> dict[str, Path]:
    """One class-name file per naming convention (UCF101, HMDB51, Kinetics), as the real lists are."""
    paths = {}
    for convention, names in downstream.class_lists(build_concepts(world["concepts"])).items():
        paths[convention] = Path(out_dir) / f"{convention}.txt"
        atomic_write_text(paths[convention], "\n".join(names) + "\n")
    return paths


def _render_one(job: downstream.RenderJob, concept_count: int, video: dict) -> int:
    if job.path.exists():  # written atomically, so an existing file is complete: resume skips it
        return job.path.stat().st_size
    concept = build_concepts(concept_count)[job.concept_index]
    rng = np.random.default_rng(list(job.seed))
    look = sample_appearance(rng, job.style)
    frames = render_frames(concept, look, video["frames"], video["height"], video["width"], rng)
    return write_video(frames, job.path, video["fps"], video["gop"], video["crf"])


def render_jobs(jobs: list[downstream.RenderJob], world: dict, workers: int, desc: str) -> int:
    """Render and encode every job in a process pool with a progress bar; returns bytes written."""
    args = (world["concepts"], world["video"])
    if workers <= 1:
        sizes = (_render_one(job, *args) for job in jobs)
        total = sum(tqdm(sizes, total=len(jobs), desc=desc, unit="video"))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_render_one, job, *args) for job in jobs]
            total = sum(future.result() for future in tqdm(futures, desc=desc, unit="video"))
    log.info("%s: %d videos, %.1f MB", desc, len(jobs), total / 1e6)
    return total


def web_video_jobs(metadata_path: Path, out_dir: Path) -> list[downstream.RenderJob]:
    table = pq.read_table(metadata_path, columns=["photo_id", "content_concept", "render_seed"]).to_pylist()
    return [
        downstream.RenderJob(row["content_concept"], "web", (row["render_seed"],), Path(out_dir) / f"{row['photo_id']}.mp4")
        for row in table
    ]


def build_web_videos(world: dict, metadata_path: Path, out_dir: Path, workers: int) -> int:
    jobs = web_video_jobs(metadata_path, out_dir)
    render_jobs(jobs, world, workers, "web videos")
    return len(jobs)


DOWNSTREAM_PLANNERS = {
    "ucf101": downstream.plan_ucf101,
    "hmdb51": downstream.plan_hmdb51,
    "curated": downstream.plan_curated,
}


def build_downstream(world: dict, name: str, root: Path, workers: int) -> int:
    """Write one downstream dataset (split files and videos) under `root`; returns its video count."""
    concepts = build_concepts(world["concepts"])
    jobs = DOWNSTREAM_PLANNERS[name](concepts, world[name], world["seed"], Path(root))
    render_jobs(jobs, world, workers, f"{name} videos")
    return len(jobs)
