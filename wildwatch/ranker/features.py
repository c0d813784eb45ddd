"""What a listing looks like to the ranker.

Three or four blocks side by side in one sparse row:
- character n-grams (2-5, within word boundaries) of the folded text: the matcher's `fold`, so diacritics,
  width and traditional/simplified Chinese do not split the vocabulary, and CJK text needs no tokenizer;
- word uni- and bigrams of the same folded text (whole phrases: "ivory white", "for sale");
- where the undecided listings were given to the trainer: the listing's topics (topics.py), fitted on them;
- facts: the keyword matcher's matches per group, kind and field, innocent contexts inside or near a hit,
  disguised spellings, the keyword score itself (the "keyword facts"), and the listing's language, site, country
  and price bucket.

The keyword facts are a set the model must earn (model.py): as columns of the regression they let a desk's
mandate by product group be learnt from a hundred decisions, but where the keyword lists miss a share of the
offers they made it lean on the lists and bury every offer they miss.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from wildwatch import matching
from wildwatch.ranker.topics import Topics

MAX_DESCRIPTION = 3000  # characters of description the model reads: the title and the start say most
CHAR_PARAMS = {"analyzer": "char_wb", "ngram_range": (2, 5), "max_features": 200_000}
WORD_PARAMS = {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b", "max_features": 100_000}
FACT_WEIGHT = 0.5  # the facts block is binary; scaled so it does not drown the normalised text blocks
KEYWORD_FACTS = ("kw:", "kwkind:", "kwfield:", "term:", "innocent:", "keyword_score")  # the matcher's findings
TOPIC_WEIGHT = 1.0  # a unit-length block like the n-gram ones (README: 0.6 to 2 measured)


@dataclass
class Record:
    """One listing (or one labelled text offline). `matches` are the matcher's, when already computed."""
    title: str
    description: str | None = None
    language: str | None = None
    site: str | None = None
    country: str | None = None
    price: float | None = None
    currency: str | None = None
    matches: list[dict] | None = None
    keyword_score: float | None = None
    facts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return matching.fold(f"{self.title or ''} \n {(self.description or '')[:MAX_DESCRIPTION]}")


def prepare(records: list[Record], matcher: matching.Matcher) -> None:
    """Fill in matches, keyword score and fact tokens (once per record; the pipeline passes its matches in)."""
    for r in records:
        if r.matches is None:
            r.matches = [m.__dict__ for m in matcher.match_listing(r.title, r.description)]
        if r.keyword_score is None:
            r.keyword_score = matching.score([matching.Match(**m) for m in r.matches]).value
        r.facts = fact_tokens(r)


def price_bucket(price: float | None, currency: str | None) -> str:
    if price is None or price <= 0:
        return "price:none"
    return f"price:{currency or '?'}:{int(math.log10(price))}"


def fact_tokens(r: Record) -> list[str]:
    tokens = {f"lang:{r.language or '?'}", price_bucket(r.price, r.currency)}
    if r.site:
        tokens.add(f"site:{r.site}")
    if r.country:
        tokens.add(f"country:{r.country}")
    if not r.matches:
        tokens.add("kw:none")
    for m in r.matches or []:
        group, kind = m["group"], m["kind"]
        tokens.update((f"kw:{group}", f"kw:{group}:{kind}", f"kwkind:{kind}", f"kwfield:{m['field']}:{group}",
                       f"term:{matching.fold(m['term'])}"))
        if m.get("obfuscated"):
            tokens.add("kw:disguised")
        if m.get("overlaps_innocent"):
            tokens.update(("innocent:inside", f"innocent:{group}", f"innocent:{matching.fold(m['innocent'])}"))
        elif m.get("innocent"):
            tokens.update(("innocent:near", f"innocent:{group}", f"innocent:{matching.fold(m['innocent'])}"))
    return sorted(tokens)


def keyword_prior(records: list[Record]) -> np.ndarray:
    """The keyword score on a log scale: the model's prior, and what orders the queue without a model."""
    return np.log1p(np.array([max(r.keyword_score or 0.0, 0.0) for r in records], dtype=np.float64))


def _vectorizer(params: dict, vocabulary=None):
    # scikit-learn only here and in transform: the crawl's scorer (scorer.py) uses this module without it.
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Text is folded before it gets here: the vectorizer must not lowercase or strip accents again.
    return TfidfVectorizer(lowercase=False, sublinear_tf=True, dtype=np.float32, vocabulary=vocabulary,
                           **{k: v for k, v in params.items() if vocabulary is None or k != "max_features"})


class Featurizer:
    def __init__(self):
        self.char = _vectorizer(CHAR_PARAMS)
        self.word = _vectorizer(WORD_PARAMS)
        self.facts: dict[str, int] = {}
        self.topics: Topics | None = None

    def fit(self, records: list[Record], topic_records: list[Record] | None = None) -> Featurizer:
        """`topic_records`: the listings the topics are fitted on (the decided and undecided ones), or none."""
        texts = [r.text for r in records]
        self.char.fit(texts)
        self.word.fit(texts)
        self.topics = Topics.fit([r.text for r in topic_records]) if topic_records else None
        names = sorted({t for r in records for t in r.facts} | {"keyword_score"})
        self.facts = {name: i for i, name in enumerate(names)}
        return self

    def transform(self, records: list[Record]):
        """A CSR matrix: one row per record."""
        from scipy import sparse

        texts = [r.text for r in records]
        rows, cols, vals = [], [], []
        score_col = self.facts["keyword_score"]
        for i, r in enumerate(records):
            for t in r.facts:
                j = self.facts.get(t)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(FACT_WEIGHT)
            rows.append(i)
            cols.append(score_col)
            vals.append(FACT_WEIGHT * math.log1p(max(r.keyword_score or 0.0, 0.0)))
        facts = sparse.csr_matrix((np.array(vals, dtype=np.float32), (rows, cols)),
                                  shape=(len(records), len(self.facts)))
        blocks = [self.char.transform(texts), self.word.transform(texts)]
        if self.topics is not None:
            blocks.append(sparse.csr_matrix(TOPIC_WEIGHT * self.topics.vectors(texts), dtype=np.float32))
        return sparse.hstack([*blocks, facts], format="csr")

    def keyword_columns(self) -> np.ndarray:
        """The columns of the keyword facts (the matcher's findings and the keyword score)."""
        offset = len(self.char.vocabulary_) + len(self.word.vocabulary_) + (self.topics.size if self.topics else 0)
        return np.array(sorted(offset + j for t, j in self.facts.items() if t.startswith(KEYWORD_FACTS)), dtype=int)

    def topic_columns(self) -> slice:
        start = len(self.char.vocabulary_) + len(self.word.vocabulary_)
        return slice(start, start + (self.topics.size if self.topics is not None else 0))

    def feature_names(self) -> list[str]:
        return ([f"chars '{t}'" for t in self.char.get_feature_names_out()]
                + [f"words '{t}'" for t in self.word.get_feature_names_out()]
                + (self.topics.names() if self.topics is not None else [])
                + sorted(self.facts, key=self.facts.get))

    # --- as data -----------------------------------------------------------------------------------------
    def to_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        doc = {"char_vocabulary": self.char.get_feature_names_out().tolist(),
               "word_vocabulary": self.word.get_feature_names_out().tolist(),
               "facts": sorted(self.facts, key=self.facts.get),
               "char_params": {k: list(v) if isinstance(v, tuple) else v for k, v in CHAR_PARAMS.items()},
               "word_params": {k: list(v) if isinstance(v, tuple) else v for k, v in WORD_PARAMS.items()}}
        arrays = {"char_idf": self.char.idf_.astype(np.float64), "word_idf": self.word.idf_.astype(np.float64)}
        if self.topics is not None:
            topic_doc, topic_arrays = self.topics.to_data()
            doc.update(topic_doc)
            arrays.update(topic_arrays)
        return doc, arrays

    @classmethod
    def from_data(cls, doc: dict, arrays: dict[str, np.ndarray]) -> Featurizer:
        self = cls.__new__(cls)
        for name in ("char", "word"):
            params = {k: tuple(v) if isinstance(v, list) else v for k, v in doc[f"{name}_params"].items()}
            vocab = {t: i for i, t in enumerate(doc[f"{name}_vocabulary"])}
            vec = _vectorizer(params, vocabulary=vocab)
            vec.idf_ = arrays[f"{name}_idf"]
            setattr(self, name, vec)
        self.facts = {t: i for i, t in enumerate(doc["facts"])}
        self.topics = Topics.from_data(doc, arrays)
        return self


LANGUAGE_NAMES = {"zh": "Chinese", "vi": "Vietnamese", "fr": "French", "sw": "Swahili", "en": "English",
                  "es": "Spanish", "pt": "Portuguese", "de": "German", "?": "unknown"}
KIND_NAMES = {"product": "product term", "code": "code word", "species": "species name", "context": "context word"}


def _amount(power: int) -> str:
    value = 10 ** power
    for size, suffix in ((10**9, " billion"), (10**6, " million")):
        if value >= size:
            return f"{value // size:,}{suffix}"
    return f"{value:,}"


def _a(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


_TOPIC = re.compile(r"topic (\d+) \((.*)\)")


def describe(feature: str, groups: dict[str, str] | None = None) -> str:
    """A ranker feature in an analyst's words ("kw:none" -> "no keyword matched", "price:VND:7" -> "asking
    price 10 million to 100 million VND"); text features and unknown ones stay as they are."""
    groups = groups or {}
    if feature.startswith(("chars '", "words '")):
        kind, text = feature.split(" ", 1)
        return ("the letters “" if kind == "chars" else "the word “") + text.strip("'") + "”"
    topic = _TOPIC.fullmatch(feature)
    if topic:
        return f"listings about “{topic.group(2)}” (topic {topic.group(1)} of the undecided listings)"
    head, _, rest = feature.partition(":")
    parts = rest.split(":") if rest else []

    def group(g: str) -> str:
        label = groups.get(g, g.replace("_", " "))
        return label[:1].lower() + label[1:] if not label[:2].isupper() else label
    if feature == "kw:none":
        return "no keyword matched"
    if feature == "kw:disguised":
        return "a disguised keyword (spacing, look-alike letters)"
    if head == "kw" and len(parts) == 1:
        return f"matched {_a(group(parts[0]))} keyword"
    if head == "kw" and len(parts) == 2:
        return _a(f"{group(parts[0])} {KIND_NAMES.get(parts[1], parts[1])}")
    if head == "kwkind":
        return f"matched {_a(KIND_NAMES.get(rest, rest))}"
    if head == "kwfield" and len(parts) == 2:
        return f"{_a(group(parts[1]))} keyword in the {parts[0]}"
    if head == "term":
        return f"the term “{rest}”"
    if feature == "innocent:inside":
        return "the keyword inside an innocent phrase (e.g. “ivory colour”)"
    if feature == "innocent:near":
        return "an innocent phrase near the keyword"
    if head == "innocent":
        return f"innocent context for {group(rest)}" if rest in groups else f"the innocent phrase “{rest}”"
    if head == "lang":
        return f"written in {LANGUAGE_NAMES.get(rest, rest)}"
    if feature == "price:none":
        return "no asking price"
    if head == "price" and len(parts) == 2 and parts[1].lstrip("-").isdigit():
        power = int(parts[1])
        currency = "" if parts[0] == "?" else f" {parts[0]}"
        return f"asking price {_amount(power)} to {_amount(power + 1)}{currency}"
    if head == "site":
        return f"on {rest}"
    if head == "country":
        return f"in {rest}"
    return feature
