"""The embedded world: deterministic, decodable, and noisy in the paper's ways."""

from __future__ import annotations

import hashlib
from collections import Counter

import numpy as np
import pyarrow.parquet as pq
import pytest

from noisyactions.video.decode import read_all_frames
from noisyactions.world.concepts import CONVENTIONS, MAX_CONCEPTS, build_concepts
from noisyactions.world.render import STYLES, sample_appearance
from noisyactions.flickr.catalog import words

from conftest import REPO, build_world


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_config_gives_identical_world(tiny_config, tiny_world, tmp_path):
    again = build_world(tiny_config, tmp_path / "again")
    assert _digest(again.web_metadata) == _digest(tiny_world.web_metadata)
    first_files = sorted(p.relative_to(tiny_world.root) for p in tiny_world.root.rglob("*") if p.is_file())
    second_files = sorted(p.relative_to(again.root) for p in again.root.rglob("*") if p.is_file())
    assert first_files == second_files
    for relative in first_files:
        if relative.suffix in {".mp4", ".avi"}:
            assert np.array_equal(read_all_frames(tiny_world.root / relative), read_all_frames(again.root / relative)), relative
        else:
            assert _digest(tiny_world.root / relative) == _digest(again.root / relative), relative


def test_another_seed_gives_another_world(tiny_config, tiny_world, tmp_path):
    other = build_world({**tiny_config, "world": {**tiny_config["world"], "seed": 12}}, tmp_path / "other")
    assert _digest(other.web_metadata) != _digest(tiny_world.web_metadata)


def test_every_video_decodes_with_configured_size(tiny_config, tiny_world):
    video = tiny_config["world"]["video"]
    videos = [p for p in tiny_world.root.rglob("*") if p.suffix in {".mp4", ".avi"}]
    web = pq.read_table(tiny_world.web_metadata)
    assert len(list(tiny_world.web_videos.glob("*.mp4"))) == web.num_rows
    for path in videos:
        frames = read_all_frames(path)
        assert frames.shape == (video["frames"], video["height"], video["width"], 3), path
        assert frames.std() > 1.0, f"{path} is blank"


def test_videos_are_seekable_with_the_configured_gop(tiny_config, tiny_world):
    import av

    path = next(tiny_world.web_videos.glob("*.mp4"))
    with av.open(str(path)) as container:
        keyframes = [packet.is_keyframe for packet in container.demux(video=0) if packet.size]
    gop = tiny_config["world"]["video"]["gop"]
    assert keyframes[::gop] == [True] * len(keyframes[::gop])
    assert sum(keyframes) == len(keyframes[::gop])


def test_web_corpus_has_the_papers_kinds_of_noise(tiny_config, tiny_world):
    rows = pq.read_table(tiny_world.web_metadata).to_pylist()
    web = tiny_config["world"]["web"]
    concepts = build_concepts(tiny_config["world"]["concepts"])
    n = len(rows)
    assert len({r["photo_id"] for r in rows}) == n
    wrong = sum(r["content_concept"] not in r["text_concepts"] for r in rows)
    multi = sum(len(r["text_concepts"]) > 1 for r in rows)
    with_tags = sum(bool(r["tags"]) for r in rows)
    with_comments = sum(bool(r["comments"]) for r in rows)
    assert 0.05 * n < wrong < 0.5 * n
    assert multi > 0.2 * n
    assert abs(with_tags / n - web["tags_rate"]) < 0.2
    assert with_comments < 0.4 * n
    assert any(r["latitude"] is None for r in rows) and any(r["latitude"] is not None for r in rows)
    # Long tail: the most common label is several times as frequent as the rarest.
    counts = Counter(r["text_concepts"][0] for r in rows)
    assert max(counts.values()) >= 3 * min(counts.values())
    # Every concept a video's text names can be found by searching its words.
    for row in rows:
        text = set(words(" ".join([row["title"], row["description"], " ".join(row["tags"])])))
        for index in row["text_concepts"]:
            assert set(words(concepts[index].phrase)) <= text, (row["photo_id"], concepts[index].phrase)


def test_class_lists_overlap_across_naming_conventions(tiny_config, tiny_world):
    lists = {c: (tiny_world.class_lists / f"{c}.txt").read_text().split("\n")[:-1] for c in CONVENTIONS}
    concepts = build_concepts(tiny_config["world"]["concepts"])
    assert any(name[0].isupper() and " " not in name for name in lists["ucf101"])
    assert all("_" in name or name.isalpha() for name in lists["hmdb51"])
    named = [{c.index for c in concepts if c.name_in(conv) in lists[conv]} for conv in CONVENTIONS]
    assert set().union(*named) == {c.index for c in concepts}, "every concept is in some list"
    assert named[0] & named[1] and named[0] & named[2], "lists overlap, so the vocabulary stage must merge"


def test_concept_count_is_bounded():
    assert len(build_concepts(MAX_CONCEPTS)) == MAX_CONCEPTS
    with pytest.raises(ValueError, match="world.concepts"):
        build_concepts(MAX_CONCEPTS + 1)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_the_moving_object_stands_out_of_its_background(style):
    """The class lives in the object's shape and motion; at 24x24 pixels a narrow network learns it
    only when the object is not lost in its scene (before the contrast, scratch training stayed at chance)."""
    gaps = []
    for k in range(300):
        look = sample_appearance(np.random.default_rng([5, k]), style)
        gaps += [abs(float(np.mean(colour)) - float(np.mean(look.bg))) for colour in look.fg]
    assert np.median(gaps) >= 0.75 * STYLES[style].contrast
    assert np.mean(np.array(gaps) >= 20) >= 0.9


def test_the_default_web_corpus_shows_every_downstream_class_often():
    """Pretraining on the web corpus can only transfer what it shows: in the default world every class
    of the UCF101 and HMDB51 stand-ins is the true content of at least 20 web videos (and its motion of
    many more), so the downstream sets share the web corpus's motion primitives and shapes."""
    from noisyactions.config import load_config
    from noisyactions.world.downstream import _pick_classes
    from noisyactions.world.web import generate_web_corpus

    world = load_config(REPO / "config" / "config.yaml")["world"]
    concepts = build_concepts(world["concepts"])
    shown = Counter(generate_web_corpus(concepts, world["web"], world["seed"]).column("content_concept").to_pylist())
    for convention in ("ucf101", "hmdb51"):
        classes = _pick_classes(concepts, convention, world[convention]["classes"], world["seed"])
        assert min(shown[c.index] for c in classes) >= 20, {c.name_in(convention): shown[c.index] for c in classes}
        motions = Counter(concepts[index].motion for index, count in shown.items() for _ in range(count))
        assert all(motions[c.motion] >= 50 for c in classes)
