"""Topics of the stored listings: what the ranker learns from the listings nobody decided.

A few hundred decisions see a few thousand words; the month's undecided listings see all of them, and which
words keep the same company there. Each word gets a vector from its neighbours in the undecided listings (and
the decided ones): the positive pointwise mutual information of the words within WINDOW of each other, reduced
to TOPICS axes by a truncated SVD (word vectors as in Levy & Goldberg 2014, "Neural word embedding as implicit
matrix factorization", without a neural network). "budgi", "cockatiel" and "finch" end up near each other,
"cage", "stand" and "feeder" elsewhere, so a decision about one listing also teaches the model about listings
that share none of its words but their neighbours. Fitted on text only, never on a label.

A listing's vector is the TF-IDF-weighted sum of its words' vectors, scaled to length 1 (as the n-gram blocks
are). Measured on real analysts' decisions (README, "How well it learns"): these word vectors beat latent
semantic analysis of the same listings (a truncated SVD of their TF-IDF, which saw only which words share a
listing) at every count from 50 to 400 decisions.
"""
from __future__ import annotations

import hashlib
import math
import re
import warnings
from collections import Counter

import numpy as np

TOPICS = 50
WINDOW = 5  # words on either side that count as a word's company
MAX_TOKENS = 300  # of a text, for its words' company: a listing's first few hundred words say what it is about
CHUNK = 2000  # texts counted at a time
MAX_WORDS = 10_000
MIN_TEXTS = 500  # below this many texts the axes would describe a handful of listings, not a month's marketplace
MIN_DOC_FREQ = 2
# Words of letters (and digits within them); CJK text has no spaces between words, so each ideograph is a word
# of its own. Numbers alone (prices, phone numbers, sizes) are left out: a topic is what listings are about.
_CJK = "\u3400-\u9fff\uf900-\ufaff"
TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


KEEP_FITS = 2
_FITTED: dict[tuple[str, int], Topics | None] = {}


def tokens(text: str) -> list[str]:
    return [t for t in TOKEN.findall(text) if not t.isdigit()]


def _ppmi(texts: list[str], vocabulary: dict[str, int]):
    """Words x words: max(0, PMI) of two words within WINDOW of each other in one text (context counts smoothed
    to the power 0.75, as word2vec does, so rare words do not dominate). Counted CHUNK texts at a time, each
    text's first MAX_TOKENS words, so 20,000 long descriptions cost no more memory than a few thousand."""
    from scipy import sparse

    size = len(vocabulary)
    counts = sparse.csr_matrix((size, size))
    for start in range(0, len(texts), CHUNK):
        ids, doc = [], []
        for n, text in enumerate(texts[start:start + CHUNK]):
            found = [vocabulary[w] for w in tokens(text)[:MAX_TOKENS] if w in vocabulary]
            ids.extend(found)
            doc.extend([n] * len(found))
        ids_a, doc_a = np.asarray(ids, dtype=np.int32), np.asarray(doc, dtype=np.int32)
        rows, cols = [], []
        for d in range(1, WINDOW + 1):
            same = doc_a[d:] == doc_a[:-d]
            a, b = ids_a[d:][same], ids_a[:-d][same]
            rows += [a, b]
            cols += [b, a]
        keys = np.concatenate(rows).astype(np.int64) * size + np.concatenate(cols)
        if len(keys):  # each pair once with its count: sorting beats scipy summing duplicates
            keys, n = np.unique(keys, return_counts=True)
            counts = counts + sparse.csr_matrix((n.astype(np.float64), (keys // size, keys % size)), shape=(size, size))
    counts = counts.tocoo()
    if counts.nnz == 0:
        return sparse.csr_matrix((size, size))
    total = counts.data.sum()
    word = np.asarray(counts.sum(axis=1)).ravel()
    context = word ** 0.75
    context /= context.sum()
    pmi = np.log(counts.data / total) - np.log(word[counts.row] / total) - np.log(context[counts.col])
    keep = pmi > 0
    return sparse.csr_matrix((pmi[keep], (counts.row[keep], counts.col[keep])), shape=(size, size))


class Topics:
    """The vocabulary, its idf and the axes (topics x words); `vectors(texts)` gives unit-length topic rows."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, axes: np.ndarray):
        self.vocabulary, self.idf, self.axes = vocabulary, idf, axes
        self._by_word = axes.T.copy()  # words x topics: a listing's vector is a sum of a few rows

    @classmethod
    def fit(cls, texts: list[str], seed: int = 0) -> Topics | None:
        """None where there are too few texts or words for the topics to mean anything.

        The same texts in any order give the same topics, and the last few fits are kept: `ranker evaluate`
        trains dozens of models on one pool (the decided and undecided rows together are always the same), and
        a fit costs ~0.4 s on 11,000 texts."""
        if len(texts) < MIN_TEXTS:
            return None
        texts = sorted(texts)
        digest = hashlib.sha256()
        for t in texts:
            digest.update(t.encode("utf-8", "surrogatepass") + b"\0")
        key = (digest.hexdigest(), seed)
        if key not in _FITTED:
            if len(_FITTED) >= KEEP_FITS:
                _FITTED.pop(next(iter(_FITTED)))
            _FITTED[key] = cls._fit(texts, seed)
        return _FITTED[key]

    @classmethod
    def _fit(cls, texts: list[str], seed: int) -> Topics | None:
        # scikit-learn only here: the crawl's scorer reads topics without it
        from sklearn.utils.extmath import randomized_svd
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(lowercase=False, tokenizer=tokens, token_pattern=None, sublinear_tf=True,
                              min_df=MIN_DOC_FREQ, max_features=MAX_WORDS, dtype=np.float64)
        try:
            X = vec.fit_transform(texts)
        except ValueError:  # no word occurs twice
            return None
        vocabulary = {t: int(i) for t, i in vec.vocabulary_.items()}
        k = min(TOPICS, X.shape[1] - 1, len(texts) - 1)
        if k < 2:
            return None
        ppmi = _ppmi(texts, vocabulary)
        if ppmi.nnz == 0:
            return None
        with warnings.catch_warnings():  # texts all alike: a share of zero variance, harmless, not worth a log line
            warnings.simplefilter("ignore", RuntimeWarning)
            words, strength, _ = randomized_svd(ppmi, k, random_state=seed)
        # each axis scaled by the root of its singular value (Levy & Goldberg's symmetric split)
        axes = (words * np.sqrt(strength)).T
        return cls(vocabulary, vec.idf_.astype(np.float64), axes.astype(np.float64))

    @property
    def size(self) -> int:
        return self.axes.shape[0]

    def vector(self, text: str) -> np.ndarray:
        """One text's unit-length topic vector (zeros where it holds no known word)."""
        rows, weights = [], []
        for word, count in Counter(tokens(text)).items():
            i = self.vocabulary.get(word)
            if i is not None:
                rows.append(i)
                weights.append((1.0 + math.log(count)) * self.idf[i])
        out = np.zeros(self.size)
        if rows:
            w = np.asarray(weights)
            out = (w / np.sqrt(w @ w)) @ self._by_word[rows]
            norm = float(np.sqrt(out @ out))
            out = out / norm if norm else out
        return out

    def vectors(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.vector(t) for t in texts]) if texts else np.zeros((0, self.size))

    def names(self, words: int = 3) -> list[str]:
        """Each topic named by its strongest words, for explanations: "topic 4 (cage, stand, feeder)"."""
        by_index = sorted(self.vocabulary, key=self.vocabulary.get)
        out = []
        for k, axis in enumerate(self.axes):
            top = np.argsort(-np.abs(axis), kind="stable")[:words]
            out.append(f"topic {k + 1} ({', '.join(by_index[j] for j in top)})")
        return out

    # --- as data -----------------------------------------------------------------------------------------
    def to_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        words = sorted(self.vocabulary, key=self.vocabulary.get)
        return {"topic_vocabulary": words}, {"topic_idf": self.idf, "topic_axes": self.axes.ravel()}

    @classmethod
    def from_data(cls, doc: dict, arrays: dict[str, np.ndarray]) -> Topics | None:
        words = doc.get("topic_vocabulary")
        if not words:
            return None
        axes = arrays["topic_axes"].reshape(-1, len(words))
        return cls({t: i for i, t in enumerate(words)}, arrays["topic_idf"], axes)
