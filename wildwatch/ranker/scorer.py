"""Scoring one listing at a time, as the crawl pipeline does, from a model's data alone.

Every crawl process (one per site and shard) loads the active model. Building it as a `Ranker` means importing
scikit-learn and SciPy, ~0.8 s per process: on a 2,000-listing crawl that was 10-15% of its pages/s. This reads
the model file into plain tables (per n-gram: idf and weight) and numpy arrays (topics), so the crawl imports
neither, and gives the same scores as the batch path (`Ranker.score`) to 1e-7; tests hold the two together.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import math
import re
from collections import Counter

import numpy as np

from wildwatch.ranker.features import FACT_WEIGHT, TOPIC_WEIGHT, Record
from wildwatch.ranker.topics import Topics

FORMAT = "wildwatch-ranker/1"


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def decode(blob: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """A model file's document and arrays (gzip'd JSON; arrays are base64 of little-endian float64)."""
    doc = json.loads(gzip.decompress(blob).decode("utf-8"))
    if doc.get("format") != FORMAT:
        raise ValueError(f"not a wildwatch ranker model (format {doc.get('format')!r})")
    arrays = {k: np.frombuffer(base64.b64decode(v), dtype="<f8").copy() for k, v in doc["arrays"].items()}
    return doc, arrays


def char_wb_ngrams(text: str, low: int, high: int) -> list[str]:
    """scikit-learn's char_wb n-grams (each word padded with one space; a word shorter than n counted once),
    built with list comprehensions instead of a while loop: the scorer's hottest line."""
    out: list[str] = []
    extend, append = out.extend, out.append
    for word in text.split():
        w = f" {word} "
        size = len(w)
        for n in range(low, high + 1):
            if n >= size:
                append(w)
                break
            extend([w[i:i + n] for i in range(size - n + 1)])
    return out


def _word_analyzer(params: dict):
    """scikit-learn's word analyzer for our parameters (text already folded: no lowercasing, no accents)."""
    pattern = re.compile(params["token_pattern"])
    low, high = params["ngram_range"]

    def analyze(text: str) -> list[str]:
        tokens = pattern.findall(text)
        out = list(tokens) if low == 1 else []
        for n in range(max(low, 2), high + 1):
            out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
        return out
    return analyze


def _analyzer(params: dict):
    if params["analyzer"] == "char_wb":
        low, high = params["ngram_range"]
        return lambda text: char_wb_ngrams(text, low, high)
    if params["analyzer"] == "word":
        return _word_analyzer(params)
    raise ValueError(f"ranker model: unknown analyzer {params['analyzer']!r}")


class Scorer:
    """Per text block: the analyzer, then sublinear tf x idf, l2 norm and dot product with the weights, over a
    dict of the vocabulary (out-of-vocabulary n-grams count for nothing, as in scikit-learn); then the topics,
    the facts and the keyword prior."""

    def __init__(self, doc: dict, arrays: dict[str, np.ndarray]):
        coef = arrays["coef"]
        self.blocks = []
        offset = 0
        for name in ("char", "word"):
            vocabulary, idf = doc[f"{name}_vocabulary"], arrays[f"{name}_idf"]
            table = {t: (float(idf[i]), float(coef[offset + i])) for i, t in enumerate(vocabulary)}
            self.blocks.append((_analyzer(doc[f"{name}_params"]), table))
            offset += len(vocabulary)
        self.topics = Topics.from_data(doc, arrays)
        self.topic_coef = None
        if self.topics is not None:
            self.topic_coef = coef[offset:offset + self.topics.size] * TOPIC_WEIGHT
            offset += self.topics.size
        self.facts = {t: float(coef[offset + j]) for j, t in enumerate(doc["facts"])}
        self.score_coef = self.facts.pop("keyword_score")
        self.intercept, self.prior_weight = float(doc["intercept"]), float(doc["prior_weight"])
        self.threshold = float(doc["threshold"])

    @classmethod
    def loads(cls, blob: bytes) -> Scorer:
        return cls(*decode(blob))

    def __call__(self, record: Record) -> float:
        text = record.text
        margin = self.intercept
        for analyze, table in self.blocks:
            dot = norm = 0.0
            get = table.get
            for gram, count in Counter(analyze(text)).items():
                hit = get(gram)
                if hit is not None:
                    value = hit[0] if count == 1 else (1.0 + math.log(count)) * hit[0]
                    norm += value * value
                    dot += value * hit[1]
            if norm:
                margin += dot / math.sqrt(norm)
        if self.topics is not None:
            margin += float(self.topics.vector(text) @ self.topic_coef)
        margin += sum(self.facts.get(t, 0.0) for t in record.facts) * FACT_WEIGHT
        prior = math.log1p(max(record.keyword_score or 0.0, 0.0))
        margin += FACT_WEIGHT * prior * self.score_coef + self.prior_weight * prior
        return float(sigmoid(margin))


def stored(conn, version: int) -> bytes | None:
    """A stored model's bytes, checked against their SHA-256 (ValueError when they do not match), or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT model, sha256 FROM ranker_models WHERE version = %s", (version,))
        row = cur.fetchone()
    if row is None:
        return None
    blob = bytes(row[0])
    if sha256(blob) != row[1]:
        raise ValueError(f"ranker model {version}: stored bytes do not match their SHA-256; refusing to load")
    return blob


def cached_active(conn, cache: dict, build):
    """(version, build(bytes)) of the active model, built once per process per version and hash; or None."""
    with conn.cursor() as cur:
        cur.execute("SELECT version, sha256 FROM ranker_models WHERE active")
        row = cur.fetchone()
    if row is None:
        return None
    key = (row[0], row[1])
    if key not in cache:
        blob = stored(conn, row[0])
        if blob is None:  # deactivated and removed between the two statements
            return None
        cache.clear()
        cache[key] = build(blob)
    return row[0], cache[key]


_cache: dict[tuple[int, str], Scorer] = {}


def active(conn) -> tuple[int, Scorer] | None:
    """The active model as a scorer, or None. A model whose stored bytes fail their hash is refused (ValueError)."""
    return cached_active(conn, _cache, Scorer.loads)
