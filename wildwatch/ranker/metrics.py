"""Ranking figures. Plain NumPy so the same code scores offline evaluations and the monthly loop."""
from __future__ import annotations

import math

import numpy as np


def _order(labels, scores) -> np.ndarray:
    """Labels sorted by descending score; ties broken by position so every caller gets the same order."""
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=int)
    idx = np.lexsort((np.arange(len(scores)), -scores))
    return labels[idx]


def _curve(labels, scores) -> tuple[np.ndarray, np.ndarray, int]:
    """(hits so far, precision so far) down the ranking, and the number of positives."""
    ranked = _order(labels, scores)
    hits = np.cumsum(ranked)
    return ranked, hits / np.arange(1, len(ranked) + 1), int(ranked.sum())


def average_precision(labels, scores) -> float:
    ranked, precision, positives = _curve(labels, scores)
    return float((precision * ranked).sum() / positives) if positives else 0.0


def precision_at_recall(labels, scores, recall: float) -> float:
    """The best precision of any cut-off of the ranking whose recall reaches `recall`."""
    ranked, precision, positives = _curve(labels, scores)
    if not positives:
        return 0.0
    reached = np.cumsum(ranked) / positives >= recall - 1e-12
    return float(precision[reached].max())


def recall_top(labels, scores, share: float) -> float:
    """Share of the positives found within the top `share` of the ranking."""
    ranked = _order(labels, scores)
    positives = ranked.sum()
    if positives == 0:
        return 0.0
    k = int(math.ceil(share * len(ranked)))
    return float(ranked[:k].sum() / positives)


def figures(labels, scores) -> dict:
    return {"average_precision": round(average_precision(labels, scores), 4),
            "precision_at_recall_90": round(precision_at_recall(labels, scores, 0.90), 4),
            "precision_at_recall_95": round(precision_at_recall(labels, scores, 0.95), 4),
            "recall_top_20pct": round(recall_top(labels, scores, 0.20), 4)}


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (sensible at 0 and n, unlike the normal approximation)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def share_better(labels, scores, baseline, resamples: int = 200, seed: int = 0) -> float:
    """The share of bootstrap resamples (rows drawn with replacement within each class) on which `scores` rank
    with a higher average precision than `baseline`: how sure a few hundred labels can be that one order beats
    the other, where one difference of averages is mostly noise."""
    labels = np.asarray(labels, dtype=int)
    scores, baseline = np.asarray(scores, dtype=float), np.asarray(baseline, dtype=float)
    rng = np.random.default_rng([seed, 4242])
    by_class = [np.flatnonzero(labels == c) for c in (0, 1)]
    wins = 0
    for _ in range(resamples):
        idx = np.concatenate([rng.choice(rows, size=len(rows)) for rows in by_class if len(rows)])
        wins += average_precision(labels[idx], scores[idx]) > average_precision(labels[idx], baseline[idx])
    return wins / resamples
