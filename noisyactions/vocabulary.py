"""The label vocabulary (paper Sec. 3): class lists of the Table 1 datasets -> search queries and labels.

Each dataset spells its classes its own way (UCF101 "PlayingGuitar", HMDB51 "play_guitar", Moments
"juggling+balls", Kinetics "kicking ball (not soccer)", AVA "1: bend/bow (at the waist)", HVU a JSON
of categories). Names are normalised into the words a person types in a search box (the *query*), and
lemmatised into the *label* a video gets, so "playing guitar" and "play guitar" become one label while
each query keeps the datasets it came from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
from lemminflect import getAllLemmas

from noisyactions.atomic import atomic_write_text

_QUALIFIER = re.compile(r"\([^)]*\)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_AVA = re.compile(r"^\s*\d+\s*:\s*(.+)$")


class VocabularyError(ValueError):
    pass


def normalise_class_name(name: str) -> str:
    """'PlayingGuitar', 'play_guitar', 'kicking ball (not soccer)', 'Juggling+balls' -> plain words."""
    text = _QUALIFIER.sub(" ", name)
    text = _CAMEL.sub(" ", text)
    text = re.sub(r"[_+/]", " ", text)
    return " ".join(text.lower().split())


# Words after which a verb form is a verb, not a noun: particles of phrasal verbs and negation
# ("water comes out", "something does not fit").
_VERB_PARTICLES = frozenset({"out", "up", "down", "off", "over", "away", "back", "not"})


def _is_base_form(word: str, lemmas: dict) -> bool:
    """The word is itself a dictionary form (of any part of speech): "saw", "rose", "dice", "left"."""
    return any(word in forms for forms in lemmas.values())


@lru_cache(maxsize=200_000)
def lemmatise_word(word: str, as_verb: bool = False) -> str:
    """One word's lemma. Class names are verb phrases over nouns, and 17 words of the paper's vocabulary
    lemmatise differently as a noun and as a verb, so the part of speech is chosen, not guessed in a
    fixed order:

    - `as_verb` (the phrase's head verb, or a verb before a particle) and every -ing form: the verb lemma
      ("playing" -> "play", "comes out" -> "come out");
    - auxiliaries take their auxiliary lemma ("does" -> "do", never the noun "doe");
    - a word whose noun and verb lemmas differ but which is itself a dictionary form stays as it is: it
      names a thing ("circular saw", "rose", "stacking dice", "shot put", "from left to right"), and
      lemmatising it would turn it into another word ("see", "rise", "die", "shoot", "leave");
    - otherwise the noun lemma (plural objects: "juggling balls" -> "ball"), then the verb's, then the
      adjective's.
    """
    lemmas = getAllLemmas(word)
    if "VERB" in lemmas and (as_verb or word.endswith("ing")):
        return lemmas["VERB"][0]
    if "AUX" in lemmas:
        return lemmas["AUX"][0]
    noun, verb = lemmas.get("NOUN"), lemmas.get("VERB")
    if noun and verb and noun[0] != verb[0] and _is_base_form(word, lemmas):
        return word
    for pos in ("NOUN", "VERB", "ADJ"):
        if pos in lemmas:
            return lemmas[pos][0]
    return word


def _is_head_verb(word: str) -> bool:
    """A phrase's first word is its action verb when it is an inflected verb form ("leaves home",
    "plays") rather than a dictionary form that names a thing ("saw", "spoke", "crew")."""
    lemmas = getAllLemmas(word)
    return "VERB" in lemmas and not _is_base_form(word, lemmas)


@lru_cache(maxsize=200_000)
def lemmatise(phrase: str) -> str:
    """An action phrase's label: the head verb lemmatised as a verb, the other words as above."""
    words = phrase.split()
    following = words[1:] + [""]
    return " ".join(
        lemmatise_word(word, as_verb=(k == 0 and _is_head_verb(word)) or after in _VERB_PARTICLES)
        for k, (word, after) in enumerate(zip(words, following))
    )


def read_class_names(path: Path) -> list[str]:
    """A dataset's class names: one per line, AVA's 'id: name' lines, or HVU's {category: [names]}."""
    path = Path(path)
    if not path.is_file():
        raise VocabularyError(f"class list {path} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise VocabularyError(f"{path}: not valid JSON ({error})") from None
        if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
            raise VocabularyError(f"{path}: expected {{category: [class names]}}")
        return [name for names in data.values() for name in names]
    names = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _AVA.match(line)
        names.append(match.group(1) if match else line.strip())
    return names


@dataclass(frozen=True)
class Vocabulary:
    """`queries`: one row per query (query, kind, sources); `labels`: query -> label with its raw names."""

    queries: pd.DataFrame
    labels: pd.DataFrame


def build_vocabulary(class_lists: list[dict], sentence_files: list[str]) -> Vocabulary:
    rows = []
    for entry in class_lists:
        for raw in read_class_names(Path(entry["path"])):
            query = normalise_class_name(raw)
            if query:
                rows.append({"query": query, "dataset": entry["dataset"], "raw": raw})
    if not rows:
        raise VocabularyError("vocabulary.class_lists gave no class names")
    names = pd.DataFrame(rows)
    grouped = names.groupby("query", sort=True).agg(
        sources=("dataset", lambda d: ",".join(sorted(set(d)))), raw=("raw", lambda r: "|".join(sorted(set(r))))
    ).reset_index()
    grouped["label"] = grouped["query"].map(lemmatise)
    sentences = []
    for path in sentence_files:
        if not Path(path).is_file():
            raise VocabularyError(f"vocabulary.sentences: {path} does not exist")
        sentences += [" ".join(line.split()) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    queries = pd.concat(
        [
            grouped.assign(kind="class")[["query", "kind", "sources"]],
            pd.DataFrame({"query": sorted(set(sentences)), "kind": "sentence", "sources": ""}),
        ],
        ignore_index=True,
    )
    return Vocabulary(queries=queries, labels=grouped[["query", "label", "sources", "raw"]])


def write_vocabulary(vocabulary: Vocabulary, queries_path: Path, labels_path: Path) -> None:
    atomic_write_text(queries_path, vocabulary.queries.to_csv(sep="\t", index=False))
    atomic_write_text(labels_path, vocabulary.labels.to_csv(sep="\t", index=False))


def read_labels(path: Path) -> dict[str, str]:
    """query -> label, from the labels table write_vocabulary wrote."""
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    return dict(zip(table["query"], table["label"]))
