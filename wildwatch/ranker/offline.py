"""`wildwatch ranker evaluate`: learning curves on any labelled CSV, through the production training code.

A fixed stratified 30% of the rows is the test part, the same for every strategy, N and repeat. From the other
70% (the pool), for each number of labels N and each repeat, N rows are "the decisions so far", chosen as the
strategy says (random, the queue a team works in score order, or the queue with a share of active-learning
picks); the ranker is trained on them exactly as `ranker train` trains, with the undecided rest of the pool as
the unlabelled listings it may use, and the test part is ranked by the ranker, by the keyword score alone and
in random order.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from wildwatch import labelled, matching
from wildwatch.ranker import metrics, policy
from wildwatch.ranker.features import Record, keyword_prior, prepare
from wildwatch.ranker.model import train

METHODS = ("ranker", "keyword", "random")
KEYS = ("average_precision", "precision_at_recall_90", "precision_at_recall_95", "recall_top_20pct")


InputError = labelled.InputError


@dataclass
class Labelled:
    texts: list[str]
    labels: np.ndarray
    skipped: int = 0


def read_csv(path: Path, text_column: str, label_column: str, skip_unlabelled: bool = False) -> Labelled:
    data = labelled.read(path, text_column, label_column, skip_unlabelled=skip_unlabelled)
    labels = np.array(data.labels, dtype=int)
    if len(set(labels.tolist())) < 2:
        raise InputError(f"{path}: every row has label {labels[0] if len(labels) else 'none'}: need both 0 and 1")
    return Labelled(data.texts, labels, data.skipped)


STRATEGIES = ("random", "queue", "active")
TEST_SHARE = 0.3


def split(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(test, pool): a stratified 30% of the rows held out, the same for every strategy, size and repeat."""
    rng = np.random.default_rng([seed, 3030])
    test = []
    for cls in (0, 1):
        idx = np.flatnonzero(labels == cls)
        rng.shuffle(idx)
        test.extend(idx[:max(1, round(TEST_SHARE * len(idx)))].tolist())
    test = np.array(sorted(test))
    return test, np.setdiff1d(np.arange(len(labels)), test)


def _both_classes(order: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """The first n of `order`, with the first row of a class missing from them swapped in for the n-th."""
    first = order[:n].copy()
    for cls in (0, 1):
        if not (labels[first] == cls).any():
            extra = next((i for i in order[n:] if labels[i] == cls), None)
            if extra is not None:
                keep = first[labels[first] != cls]
                first[np.flatnonzero(first == keep[-1])[0]] = extra
    return first


def _top(candidates: np.ndarray, scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The k candidates with the highest scores (ties in random order)."""
    if k <= 0 or len(candidates) == 0:
        return candidates[:0]
    jitter = rng.random(len(candidates)) * 1e-9
    return candidates[np.argsort(-(scores + jitter), kind="stable")[:k]]


def acquire(strategy: str, sizes: list[int], pool: np.ndarray, labels: np.ndarray, records: list[Record],
            prior: np.ndarray, rng: np.random.Generator, active_share: float, fit, active_young: int = 0) -> np.ndarray:
    """The rows labelled first, in the order a team would decide them, up to max(sizes).

    random: drawn at random. queue: a team working the queue in score order: the keyword order until a model
    can be trained, then the current model's order, retrained after each batch (a quarter of the labels so far,
    at least 10). active: the same, with a share of each batch the rows the model is least sure of (probability
    nearest 0.5; at random before a first model), the rest from the top of the queue: the review app's policy,
    `active_share` as its floor and `active_young` the decisions until it is reached (policy.active_share)."""
    if strategy == "random":
        return rng.permutation(pool)
    taken: list[int] = []
    left = pool.copy()
    model = None
    target = max(sizes)
    while len(taken) < target:
        batch = min(target - len(taken), max(10, len(taken) // 4)) if taken else min(sizes)
        scores = model.score([records[i] for i in left]) if model else prior[left]
        share = policy.active_share(active_share, active_young, len(taken))
        explore = int(round(share * batch)) if strategy == "active" else 0
        if explore and model is not None:
            unsure = left[np.argsort(np.abs(scores - 0.5) + rng.random(len(left)) * 1e-9, kind="stable")[:explore]]
        else:
            unsure = rng.choice(left, size=min(explore, len(left)), replace=False) if explore else left[:0]
        rest_mask = ~np.isin(left, unsure)
        picks = np.concatenate([unsure, _top(left[rest_mask], scores[rest_mask], batch - len(unsure), rng)])
        taken.extend(picks.tolist())
        left = left[~np.isin(left, picks)]
        y = labels[taken]
        model = fit(np.array(taken), left) if 0 < y.sum() < len(y) else None
    return np.array(taken)


def learning_curve(data: Labelled, sizes: list[int], repeats: int, seed: int, matcher: matching.Matcher,
                   progress=None, strategy: str = "random", active_share: float = 0.5,
                   unlabelled: str = "none", active_young: int = 0) -> dict:
    if strategy not in STRATEGIES:
        raise InputError(f"--strategy is one of {', '.join(STRATEGIES)}")
    if any(n < 2 for n in sizes):
        raise InputError("--labels: every N must be at least 2 (one row of each class)")
    test, pool = split(data.labels, seed)
    too_many = [n for n in sizes if n >= len(pool)]
    if too_many:
        raise InputError(f"{len(data.labels)} labelled rows, {len(pool)} outside the 30% test part: fewer than "
                         f"N={too_many[0]} plus rows left unlabelled")
    if repeats < 1:
        raise InputError("--repeats must be at least 1")
    records = [Record(title=t) for t in data.texts]
    prepare(records, matcher)
    prior = keyword_prior(records)
    y = data.labels[test]
    test_records = [records[i] for i in test]
    sizes = sorted(sizes)
    runs = {n: {m: [] for m in METHODS} for n in sizes}
    for rep in range(repeats):
        rng = np.random.default_rng([seed, rep, STRATEGIES.index(strategy)])

        def fit(chosen: np.ndarray, rest: np.ndarray, rep=rep):
            return train([records[i] for i in chosen], data.labels[chosen], seed=seed + rep,
                         unlabelled=[records[i] for i in rest], use=unlabelled)

        order = acquire(strategy, sizes, pool, data.labels, records, prior, rng, active_share, fit, active_young)
        for n in sizes:
            chosen = _both_classes(order, data.labels, n)
            if 0 < data.labels[chosen].sum() < len(chosen):
                model = fit(chosen, np.setdiff1d(pool, chosen))
                ranked, used = model.score(test_records), model.info.get("order")
            else:  # a queue worked in keyword order can hold one class only: no model, the keyword order stays
                ranked, used = prior[test], "keywords (one class decided)"
            for method, scores in (("ranker", ranked), ("keyword", prior[test]),
                                   ("random", rng.random(len(test)))):
                # ROC AUC too, for comparison with published figures (text output only: the JSON is fixed)
                runs[n][method].append({**metrics.figures(y, scores), "roc_auc": roc_auc_score(y, scores),
                                        "order": used, "offers": float(data.labels[chosen].mean())})
            if progress:
                progress(n, rep)
    curve = []
    for n in sizes:
        point = {"labels": n}
        for m in METHODS:
            point[m] = {k: round(float(np.mean([r[k] for r in runs[n][m]])), 4) for k in KEYS}
            point.setdefault("spread", {})[m] = {k: round(float(np.std([r[k] for r in runs[n][m]])), 4)
                                                 for k in (*KEYS, "roc_auc")}
            point.setdefault("roc_auc", {})[m] = round(float(np.mean([r["roc_auc"] for r in runs[n][m]])), 4)
        point["orders"] = sorted({r["order"] for r in runs[n]["ranker"]})
        # what the analysts saw: the share of offers among the items they decided (the queue's precision for them)
        point["offers_decided"] = round(float(np.mean([r["offers"] for r in runs[n]["ranker"]])), 4)
        curve.append(point)
    return {"rows": int(len(data.labels)), "positives": int(data.labels.sum()), "strategy": strategy,
            "skipped": data.skipped,
            "test_rows": int(len(test)), "curve": curve}


def as_json(result: dict) -> dict:
    """Exactly the documented shape: strategy, rows, positives, and per N the four figures of each method."""
    return {"strategy": result["strategy"], "rows": result["rows"], "positives": result["positives"],
            "curve": [{"labels": p["labels"], **{m: p[m] for m in METHODS}} for p in result["curve"]]}


def as_text(result: dict, repeats: int) -> str:
    short = {"average_precision": "AP", "precision_at_recall_90": "P@R90", "precision_at_recall_95": "P@R95",
             "recall_top_20pct": "R@top20%"}
    skipped = f" ({result['skipped']} rows without a label left out)" if result.get("skipped") else ""
    lines = [f"{result['rows']} rows, {result['positives']} positive{skipped}; labels drawn by strategy "
             f"'{result['strategy']}' from the 70% outside a fixed stratified test part of {result['test_rows']} rows; "
             f"mean (± sd) over {repeats} repeat(s) on the test part"]
    lines.append(f"{'labels':>6}  {'order':8s}" + "".join(f"{short[k]:>16s}" for k in KEYS) + f"{'ROC AUC':>16s}")
    for p in result["curve"]:
        for m in METHODS:
            cells = "".join(f"{p[m][k]:>9.3f} ±{p['spread'][m][k]:.3f}" for k in KEYS)
            cells += f"{p['roc_auc'][m]:>9.3f} ±{p['spread'][m]['roc_auc']:.3f}"
            lines.append(f"{p['labels']:>6}  {m:8s}{cells}"
                         + (f"  ({'/'.join(p['orders'])}; {p['offers_decided']:.0%} of the decided were offers)"
                            if m == "ranker" else ""))
    return "\n".join(lines)
