"""Training, scoring and explaining; the model as plain data.

Labels: 1 = an offer analysts confirmed; 0 = not wildlife, or legal (the queue exists for illegal offers;
legal trade is a reason to let a listing go, so the model learns it as a negative). "unsure" is not a label.

Training (the same function offline and in production):
1. a logistic regression over the features of features.py, classes balanced, with or without the keyword facts;
2. plus the keyword score as a prior: score = sigmoid(margin + w * log1p(keyword score)). The feature set and w
   are chosen by stratified cross-validation on the training decisions (average precision of the out-of-fold
   scores), so with few decisions the model leans on the keyword lists and with many on what it learnt; the
   keyword order stays unless the learnt one beats it on CONFIDENCE of the bootstrap resamples;
3. the queue threshold: the highest score that still keeps `recall_target` of the confirmed offers in the
   out-of-fold scores (queue policy: keyword threshold OR ranker threshold).

A model file is gzip'd JSON: vocabularies, parameters, and arrays as base64 of little-endian float64. Loading it
runs no code (no pickle anywhere), and its SHA-256 names it.
"""
from __future__ import annotations

import base64
import functools
import gzip
import json
from dataclasses import dataclass, field

import numpy as np
from sklearn.linear_model import LogisticRegression

from wildwatch.ranker import metrics
from wildwatch.ranker.features import Featurizer, Record, keyword_prior
from wildwatch.ranker.scorer import FORMAT, Scorer, decode, sigmoid

C_GRID = (1.0, 10.0)
NB_CHOICES = (False, True)
PRIOR_WEIGHTS = (0.0, 0.5, 1.0, 2.0, 4.0)
MAX_FOLDS = 5
# With one decision of a kind there is no cross-validation to show that a learnt order beats the keyword order
# (and a bootstrap would redraw that lone decision every time): a team's first 30 decisions from the top of the
# keyword queue may hold one "not wildlife" only. Two to four of a kind are enough on the bird ads: requiring 5
# made 30 random junk labels rank at 0.40 AP against 0.64 (5 repeats; no change at 50).
MIN_PER_CLASS = 2
CONFIDENCE = 0.9  # share of bootstrap resamples on which the learnt order must beat the keyword order
BIG = 3000  # from this many decisions: 3 folds and one C, so training stays within seconds


class TrainingError(ValueError):
    """The decisions cannot train a model (one class only)."""


@dataclass
class Ranker:
    featurizer: Featurizer
    coef: np.ndarray
    intercept: float
    prior_weight: float
    threshold: float
    info: dict = field(default_factory=dict)
    _fast: object = field(default=None, repr=False, compare=False)

    def margins(self, records: list[Record]) -> np.ndarray:
        X = self.featurizer.transform(records)
        return X @ self.coef + self.intercept + self.prior_weight * keyword_prior(records)

    def score(self, records: list[Record]) -> np.ndarray:
        if not records:
            return np.zeros(0)
        return sigmoid(self.margins(records))

    def score_one(self, record: Record) -> float:
        """The same score as score([record]) for one listing, as the crawl pipeline computes it (scorer.py)."""
        if self._fast is None:
            self._fast = Scorer(*self.as_data())
        return self._fast(record)

    def explain(self, record: Record, top: int = 5) -> list[dict]:
        """The features that pushed this listing's score most, either way: [{feature, weight}], strongest first."""
        row = self.featurizer.transform([record]).tocoo()
        names = None
        contributions = []
        for j, v in zip(row.col, row.data, strict=True):
            c = float(v * self.coef[j])
            if abs(c) > 1e-6:
                contributions.append((j, c))
        prior = float(self.prior_weight * keyword_prior([record])[0])
        out = [{"feature": "keyword score (prior)", "weight": round(prior, 3)}] if abs(prior) > 1e-6 else []
        if contributions:
            names = self.featurizer.feature_names()
            out += [{"feature": names[j], "weight": round(c, 3)} for j, c in contributions]
        out.sort(key=lambda e: -abs(e["weight"]))
        return out[:top]

    # --- as data -----------------------------------------------------------------------------------------
    def as_data(self) -> tuple[dict, dict[str, np.ndarray]]:
        doc, arrays = self.featurizer.to_data()
        doc.update({"format": FORMAT, "intercept": self.intercept, "prior_weight": self.prior_weight,
                    "threshold": self.threshold, "info": self.info})
        return doc, {**arrays, "coef": self.coef.astype(np.float64)}

    def dumps(self) -> bytes:
        doc, arrays = self.as_data()
        doc["arrays"] = {k: base64.b64encode(v.astype("<f8").tobytes()).decode("ascii")
                         for k, v in sorted(arrays.items())}
        raw = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return gzip.compress(raw, compresslevel=6, mtime=0)  # mtime 0: same model, same bytes, same hash

    @classmethod
    def loads(cls, blob: bytes) -> Ranker:
        doc, arrays = decode(blob)
        featurizer = Featurizer.from_data(doc, arrays)
        return cls(featurizer, arrays["coef"], float(doc["intercept"]), float(doc["prior_weight"]),
                   float(doc["threshold"]), doc.get("info", {}))


def nb_ratio(X, labels: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Log-count ratio of each feature's presence in positives vs negatives (Wang & Manning's NB-SVM): scaling
    features by it lets a few hundred labels say which n-grams matter before the regression weighs them."""
    present = (X > 0).astype(np.float64)
    p = alpha + np.asarray(present[labels == 1].sum(axis=0)).ravel()
    q = alpha + np.asarray(present[labels == 0].sum(axis=0)).ravel()
    return np.log((p / p.sum()) / (q / q.sum()))


def _fit_lr(X, labels: np.ndarray, C: float, nb: bool, dense: slice = slice(0, 0)):
    """(coefficients over the unscaled features, intercept): NB scaling is folded into the coefficients. The
    `dense` columns (topics) are not scaled: nearly every listing has every topic, so a presence ratio would be
    ~0 and silence them."""
    scale = None
    if nb:
        scale = nb_ratio(X, labels)
        scale[dense] = 1.0
    Xs = X.multiply(scale).tocsr() if nb else X
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=2000, solver="liblinear")
    clf.fit(Xs, labels)
    coef = clf.coef_.ravel().astype(np.float64)
    return (coef * scale if nb else coef), float(clf.intercept_[0])


def _without(X, columns: np.ndarray):
    """X with these columns zeroed: a regression gives them no weight, and the model keeps one column layout."""
    if not len(columns):
        return X
    mask = np.ones(X.shape[1])
    mask[columns] = 0.0
    out = X.multiply(mask).tocsr()
    out.eliminate_zeros()
    return out


def _folds(labels: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """Stratified folds: each class dealt round-robin after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), dtype=int)
    for cls in (0, 1):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        fold_of[idx] = np.arange(len(idx)) % k
    return [np.flatnonzero(fold_of == f) for f in range(k)]


ENSEMBLE = ("ensemble", None)  # the key of the grid's averaged models, where a single (C, NB) setting would be


def _ensemble_scales(margins: dict) -> dict:
    """Per grid setting, the factor that brings its out-of-fold margins to the grid's mean spread: so each model
    weighs the same in the average, and the average stays on the scale the keyword prior's weights are for."""
    spread = {c: float(np.std(m)) or 1.0 for c, m in margins.items()}
    mean = float(np.mean(list(spread.values())))
    return {c: mean / s for c, s in spread.items()}


def _text_model(grid: list, chosen) -> str:
    def one(c, nb):
        return f"C {c:g}{', NB scaling' if nb else ''}"
    if chosen == ENSEMBLE:
        return f"the average of {len(grid)} regressions ({'; '.join(one(*c) for c in grid)})"
    return f"one regression ({one(*chosen)})"


def _threshold(labels: np.ndarray, scores: np.ndarray, recall_target: float) -> float:
    positives = np.sort(scores[labels == 1])[::-1]
    if len(positives) == 0:
        return 0.5
    keep = int(np.ceil(recall_target * len(positives)))
    return float(positives[min(keep, len(positives)) - 1])


# Stored listings nobody decided that the topics are fitted on, besides the decisions: the words of this month's
# marketplaces, not only of the few hundred decided listings.
MAX_UNLABELLED = 20_000


def _sample(items: list, n: int, seed: int) -> list:
    if len(items) <= n:
        return list(items)
    idx = np.random.default_rng([seed, 17]).choice(len(items), size=n, replace=False)
    return [items[i] for i in sorted(idx)]


UNLABELLED_USES = ("none", "topics", "vocabulary", "self-training")
PRODUCTION_USE = "topics"


def train(records: list[Record], labels, *, recall_target: float = 0.95, seed: int = 0,
          unlabelled: list[Record] | None = None, use: str = "none") -> Ranker:
    """Records must be prepared (features.prepare). Needs both classes.

    `unlabelled` (undecided listings) and `use`: "topics" (production) fits topics (topics.py) on them and the
    decisions, a block of features beside the n-grams; "vocabulary" fits the n-gram vocabulary and idf on them
    as well; "self-training" trains once, takes the listings it scores highest and lowest as that many more
    positives and negatives as it has decisions, and trains again. The last two were measured on real analysts'
    decisions and made things worse (README, "How well it learns"): kept to measure again on new data with
    `ranker evaluate --unlabelled`. "vocabulary" and "self-training" need the unlabelled records prepared."""
    if use == "self-training" and unlabelled:
        first = train(records, labels, recall_target=recall_target, seed=seed)
        scores = first.score(unlabelled)
        labels = np.asarray(labels, dtype=int)
        by_score = np.argsort(-scores, kind="stable")
        n_pos, n_neg = int(labels.sum()), int(len(labels) - labels.sum())
        pos, neg = by_score[:min(n_pos, len(by_score) // 2)], by_score[::-1][:min(n_neg, len(by_score) // 2)]
        records = records + [unlabelled[i] for i in pos] + [unlabelled[i] for i in neg]
        labels = np.r_[labels, np.ones(len(pos), dtype=int), np.zeros(len(neg), dtype=int)]
        unlabelled = None
    if use == "none":
        unlabelled = None
    labels = np.asarray(labels, dtype=int)
    counts = {"positive": int(labels.sum()), "negative": int(len(labels) - labels.sum())}
    if min(counts.values()) == 0:
        raise TrainingError(f"training needs both classes; have {counts}")
    prior = keyword_prior(records)
    pool = _sample(unlabelled or [], MAX_UNLABELLED, seed)
    # One vocabulary for the cross-validation folds and the final model: it is fitted on text only, so the folds
    # leak no label; fitting it once is what keeps training on 10,000 decisions within seconds.
    if use == "topics":
        featurizer = Featurizer().fit(records, topic_records=records + pool)
    else:
        featurizer = Featurizer().fit(records + pool)
    X = featurizer.transform(records)
    # Two feature sets, the keyword facts in or out (features.py): cross-validation picks the one that ranks better.
    matrices = {True: X, False: _without(X, featurizer.keyword_columns())}
    fit = functools.partial(_fit_lr, dense=featurizer.topic_columns())
    k = min(MAX_FOLDS if len(labels) < BIG else 3, min(counts.values()))
    grid = [(c, nb) for c in C_GRID for nb in NB_CHOICES] if len(labels) < BIG else [(C_GRID[-1], True)]
    best_c, best_w, best_facts, oof, cv, order, scales = grid[0], 0.0, True, None, {}, "model", {}
    if min(counts.values()) < MIN_PER_CLASS:
        order = "keywords"
        cv = {"choice": {"order": order, "too_few": counts}}
    else:
        folds = _folds(labels, k, seed)
        best, candidates = -1.0, {}
        for facts, Xs in matrices.items():
            margins = {c: np.zeros(len(labels)) for c in grid}
            for test in folds:
                train_idx = np.setdiff1d(np.arange(len(labels)), test)
                if labels[train_idx].min() == labels[train_idx].max():
                    continue
                for c in grid:
                    coef, intercept = fit(Xs[train_idx], labels[train_idx], *c)
                    margins[c][test] = Xs[test] @ coef + intercept
            if len(grid) > 1:
                # The grid's models averaged (each margin scaled to the same spread) is a linear model too, and
                # on real decisions it ranked better than the best single setting picked out of fold, at every
                # count from 50 to 400 (README, "How well it learns"): picking among settings on a few hundred
                # decisions mostly picks noise.
                scales[facts] = _ensemble_scales(margins)
                margins = {ENSEMBLE: sum(margins[c] * scales[facts][c] for c in grid) / len(grid)}
            for c in margins:
                candidates[(facts, c)] = margins[c]
                for w in PRIOR_WEIGHTS:
                    ap = metrics.average_precision(labels, margins[c] + w * prior)
                    if ap > best + 1e-9:
                        best, best_c, best_w, best_facts = ap, c, w, facts
        keyword_ap = metrics.average_precision(labels, prior)
        learnt = candidates[(best_facts, best_c)] + best_w * prior
        oof = sigmoid(learnt)
        cv = {"folds": k, "ranker": metrics.figures(labels, oof), "keyword": metrics.figures(labels, prior)}
        # Never worse than the keyword lists: unless the learnt order beats theirs out of fold on at least
        # CONFIDENCE of the bootstrap resamples, the queue keeps the keyword order (a model whose text weights
        # are all zero). A bare "higher AP" on a few dozen decisions picks the learnt order by luck.
        sure = metrics.share_better(labels, learnt, prior, seed=seed) if best > keyword_ap else 0.0
        if sure < CONFIDENCE:
            order, oof = "keywords", sigmoid(prior)
            cv["ranker"] = cv["keyword"]
        else:
            order = "model" if best_w == 0 else "blend"
        cv["choice"] = {"order": order, "model_ap": round(best, 4), "keyword_ap": round(keyword_ap, 4),
                        "confidence": round(sure, 3), "keyword_facts": best_facts,
                        "text_model": _text_model(grid, best_c)}
    X = matrices[best_facts]
    if order == "keywords":
        coef, intercept, best_w = np.zeros(X.shape[1]), 0.0, 1.0
    elif best_c == ENSEMBLE:
        fitted = [fit(X, labels, *c) for c in grid]
        scale = scales[best_facts]
        coef = sum(f[0] * scale[c] for f, c in zip(fitted, grid, strict=True)) / len(grid)
        intercept = sum(f[1] * scale[c] for f, c in zip(fitted, grid, strict=True)) / len(grid)
    else:
        coef, intercept = fit(X, labels, *best_c)
    ranker = Ranker(featurizer, coef, intercept, best_w, 0.5)
    if oof is None:
        oof = ranker.score(records)
    ranker.threshold = _threshold(labels, oof, recall_target)
    ensemble = best_c == ENSEMBLE and order != "keywords"
    ranker.info = {"C": None if ensemble else best_c[0], "nb_scaling": None if ensemble else best_c[1],
                   "ensemble": [list(c) for c in grid] if ensemble else None, "prior_weight": best_w,
                   "decisions": counts, "keyword_facts": best_facts and order != "keywords",
                   "recall_target": recall_target, "order": order, "unlabelled": len(pool),
                   "topics": featurizer.topics.size if featurizer.topics is not None else 0,
                   "cross_validation": cv, "features": len(coef)}
    return ranker
