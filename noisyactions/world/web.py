"""The web corpus: Flickr-style metadata for every video of the embedded world, with the paper's noise.

Noise is built into what the text says, not into a label column, because the crawler only ever sees
text: a video is found by every query whose words its title, description or tags contain. So
- a long tail: the concept a video's text is about is drawn Zipf-like over a shuffled concept order;
- wrong labels: with `wrong_label_rate` the video shows another concept than its text names;
- multi-labels: with `multi_label_rate` its text also names 1..`max_extra_labels` other concepts;
- missing fields and noisy tags at rates near the paper's Table 2.
The truth (`content_concept`, `text_concepts`) stays in the table for measuring noise; the server never
serves it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from noisyactions.flickr import fields
from noisyactions.flickr.catalog import parse_date
from noisyactions.world import geo
from noisyactions.world.concepts import Concept

WEB_STREAM = 1  # random-stream ids keep the world's parts independent of each other
NOISE_TAGS = (
    "summer", "fun", "vacation", "family", "friends", "iphone", "canon", "travel", "hd", "video",
    "weekend", "kids", "sport", "music", "nature", "city", "beach", "party", "holiday", "2012",
    "2015", "2018", "gopro", "slowmo", "outdoor", "park", "school", "training", "competition", "trip",
)
UNINFORMATIVE_TITLES = ("IMG_{n:04d}", "MVI_{n:04d}", "VID_{n:04d}", "Video {n}", "DSC{n:05d}")
COMMENTS = (
    "Awesome!", "Great video", "Love it", "Where is this?", "So cool!!", "Nice {obj}",
    "Amazing {gerund}", "Haha brilliant", "Well done", "Beautiful shot",
)
VIDEO_SIZES = ("Site MP4", "Mobile MP4", "HD MP4", "Video Original")
def _title(rng: np.random.Generator, concept: Concept, place: str, base_form: bool) -> str:
    """A title naming the concept; `base_form` allows "Learning to juggle", which a search for
    "juggling" misses, so it is used only when the description or tags name the concept too."""
    g, o, v = concept.gerund, concept.obj, concept.verb
    templates = [
        f"{g} {o}".capitalize(),
        f"{g} {o} at the {place}".capitalize(),
        f"My brother {g} {o}",
        f"{o} {g} {rng.integers(2006, 2021)}".strip().capitalize(),
        f"Best {g} {o} ever!!",
    ]
    if base_form:
        templates.append(f"Learning to {v} {o}")
    return " ".join(templates[rng.integers(len(templates))].split())


def _description(rng: np.random.Generator, concepts: list[Concept], city: str) -> str:
    first, extra = concepts[0], concepts[1:]
    parts = [f"Had a great time {first.gerund} {first.obj} with friends near {city}."]
    for concept in extra:
        parts.append(f"Later we went {concept.gerund} {concept.obj}.")
    if rng.random() < 0.4:
        parts.append("Shot on my phone, sorry for the shaky camera.")
    return " ".join(" ".join(parts).split())


def _tags(rng: np.random.Generator, concepts: list[Concept], mean_tags: float, city: str) -> list[str]:
    tags: list[str] = []
    for concept in concepts:
        tags += concept.phrase.split()
    wanted = max(len(tags), int(rng.poisson(mean_tags)))
    pool = list(NOISE_TAGS) + [city.lower().replace(" ", "")]
    while len(tags) < wanted:
        tags.append(pool[rng.integers(len(pool))])
    order = rng.permutation(len(tags))
    return list(dict.fromkeys(tags[i] for i in order))


def _zipf_probabilities(count: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    ranks = np.empty(count)
    ranks[rng.permutation(count)] = np.arange(1, count + 1)
    weights = 1.0 / ranks**exponent
    return weights / weights.sum()


def generate_web_corpus(concepts: list[Concept], web: dict, seed: int) -> pa.Table:
    """One row per web video: everything Flickr would know about it, plus the truth columns."""
    rng = np.random.default_rng([seed, WEB_STREAM])
    count = web["videos"]
    label_p = _zipf_probabilities(len(concepts), web["zipf_exponent"], rng)
    start, end = parse_date(web["start_date"]), parse_date(web["end_date"])
    # Flickr ids grow with upload time: draw the dates first, sort, then hand out growing ids.
    uploads = np.sort(start + (end - start) * rng.random(count) ** 0.7).astype(np.int64)
    ids = 3_000_000_000 + np.cumsum(rng.integers(1_000, 2_000_000, size=count))
    owners = [f"{rng.integers(10_000_000, 99_999_999)}@N0{rng.integers(0, 9)}" for _ in range(max(1, count // 4))]
    rows = []
    for index in range(count):
        item = np.random.default_rng([seed, WEB_STREAM, index])
        primary = concepts[item.choice(len(concepts), p=label_p)]
        text_concepts = [primary]
        if item.random() < web["multi_label_rate"]:
            extra = item.choice(len(concepts), size=item.integers(1, web["max_extra_labels"] + 1), p=label_p)
            text_concepts += [concepts[i] for i in dict.fromkeys(extra) if i != primary.index]
        content = primary
        if item.random() < web["wrong_label_rate"]:
            others = [c for c in concepts if c not in text_concepts]
            content = others[item.integers(len(others))] if others else primary
        place = geo.sample_place(item) if item.random() < web["geo_rate"] else None
        city = place["locality"] if place else geo.PLACES[item.integers(len(geo.PLACES))][2]

        has_tags = item.random() < web["tags_rate"]
        has_description = item.random() < web["description_rate"]
        informative_title = item.random() >= web["uninformative_title_rate"]
        if not (has_tags or has_description or informative_title):
            has_description = True  # every video must be findable by the query that "crawled" it
        title = (
            _title(item, primary, "beach park lake gym street".split()[item.integers(5)], has_description or has_tags)
            if informative_title
            else UNINFORMATIVE_TITLES[item.integers(len(UNINFORMATIVE_TITLES))].format(n=item.integers(1, 99999))
        )
        description = _description(item, text_concepts, city) if has_description else ""
        tags = _tags(item, text_concepts if has_tags else [], web["mean_tags"], city) if has_tags else []
        if not has_description and not has_tags:
            # Only the title names a concept: the extra labels need a place in the text too.
            title = " and ".join([title] + [f"{c.gerund} {c.obj}".strip() for c in text_concepts[1:]])

        owner = owners[item.integers(len(owners))]
        comment_count = 1 + int(item.poisson(web["mean_comments"] - 1)) if item.random() < web["comments_rate"] else 0
        comments = [
            {
                "id": f"{ids[index]}-{k}",
                "author": owners[item.integers(len(owners))],
                "authorname": f"user{item.integers(1000, 9999)}",
                "datecreate": int(uploads[index] + item.integers(3600, 86400 * 400)),
                "content": COMMENTS[item.integers(len(COMMENTS))].format(obj=primary.obj or "work", gerund=primary.gerund),
            }
            for k in range(comment_count)
        ]
        short = item.random() < web["short_duration_rate"]
        duration = int(item.integers(3, 60)) if short else int(60 + item.exponential(web["long_duration_mean"] - 60))
        original_height = int(item.choice([360, 480, 720, 1080]))
        sizes = ["Site MP4", "Mobile MP4"]
        if original_height >= 720:
            sizes.append("HD MP4")
        if item.random() < web["original_rate"]:
            sizes.append("Video Original")
        taken = int(uploads[index] - item.exponential(86400 * 20))
        rows.append(
            {
                "photo_id": str(ids[index]),
                "secret": f"{item.integers(0, 16**10):010x}",
                "server": str(65535 - int(item.integers(0, 8000))),
                "farm": 66,
                "owner": owner,
                "owner_name": f"{owner.split('@')[0][-4:]}_films",
                "realname": ("Alex", "Sam", "Kim", "Jo", "")[item.integers(5)],
                "title": title,
                "description": description,
                "tags": tags,
                "comments": comments,
                "date_upload": int(uploads[index]),
                "date_taken": dt.datetime.fromtimestamp(taken, dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "latitude": place["latitude"] if place else None,
                "longitude": place["longitude"] if place else None,
                "accuracy": place["accuracy"] if place else None,
                "locality": place["locality"] if place else None,
                "country": place["country"] if place else None,
                "license": int(item.choice(11, p=[0.5] + [0.05] * 10)),
                "views": int(item.lognormal(4.0, 1.5)),
                "duration": duration,
                "original_width": original_height * 16 // 9,
                "original_height": original_height,
                "original_format": ("mov", "mp4", "avi")[item.integers(3)],
                "sizes": sizes,
                "content_concept": content.index,
                "text_concepts": [c.index for c in text_concepts],
                "render_seed": int(item.integers(0, 2**31)),
            }
        )
    return pa.Table.from_pylist(rows, schema=WEB_SCHEMA)


WEB_SCHEMA = pa.schema(
    fields.IDENTITY
    + [("server", pa.string()), ("farm", pa.int32())]
    + fields.DESCRIPTION
    + [
        ("comments", pa.list_(fields.COMMENT)),
        ("original_width", pa.int32()),
        ("original_height", pa.int32()),
        ("original_format", pa.string()),
        ("sizes", pa.list_(pa.string())),
        ("content_concept", pa.int32()),
        ("text_concepts", pa.list_(pa.int32())),
        ("render_seed", pa.int64()),
    ]
)
