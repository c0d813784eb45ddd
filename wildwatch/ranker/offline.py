"""`wildwatch ranker evaluate`: learning curves on any labelled CSV, through the production training code.

For each number of labels N and each repeat: N rows drawn at random are "the decisions so far" (at least one
of each class), the ranker is trained on them exactly as `ranker train` trains, and the remaining rows are
ranked by the ranker, by the keyword score alone and in random order.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from wildwatch import matching
from wildwatch.ranker import metrics
from wildwatch.ranker.features import Record, keyword_prior, prepare
from wildwatch.ranker.model import train

METHODS = ("ranker", "keyword", "random")
KEYS = ("average_precision", "precision_at_recall_90", "precision_at_recall_95", "recall_top_20pct")


class InputError(ValueError):
    """Bad input: the message is one line naming the problem."""


@dataclass
class Labelled:
    texts: list[str]
    labels: np.ndarray


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not readable as UTF-8 or Latin-1 text")  # latin-1 never fails; kept for clarity


def read_csv(path: Path, text_column: str, label_column: str) -> Labelled:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(io.StringIO(_decode(raw, path), newline=""))
    columns = reader.fieldnames or []
    missing = [c for c in (text_column, label_column) if c not in columns]
    if missing:
        raise InputError(f"{path}: no column {', '.join(repr(c) for c in missing)} (columns: {', '.join(columns) or 'none'})")
    texts, labels = [], []
    for line_no, row in enumerate(reader, start=2):
        label = (row.get(label_column) or "").strip()
        if label not in ("0", "1"):
            raise InputError(f"{path}:{line_no}: label must be 0 or 1, got {label!r} in column {label_column!r}")
        texts.append(row.get(text_column) or "")
        labels.append(int(label))
    labels = np.array(labels, dtype=int)
    if len(set(labels.tolist())) < 2:
        raise InputError(f"{path}: every row has label {labels[0] if len(labels) else 'none'}: need both 0 and 1")
    return Labelled(texts, labels)


def _draw(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n row indices with at least one of each class."""
    for _ in range(100):
        idx = rng.choice(len(labels), size=n, replace=False)
        if 0 < labels[idx].sum() < n:
            return idx
    pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
    first = [rng.choice(pos), rng.choice(neg)]
    rest = rng.choice(np.setdiff1d(np.arange(len(labels)), first), size=n - 2, replace=False)
    return np.concatenate([first, rest])


def learning_curve(data: Labelled, sizes: list[int], repeats: int, seed: int, matcher: matching.Matcher,
                   progress=None) -> dict:
    if any(n < 2 for n in sizes):
        raise InputError("--labels: every N must be at least 2 (one row of each class)")
    too_many = [n for n in sizes if n >= len(data.labels)]
    if too_many:
        raise InputError(f"{len(data.labels)} labelled rows: fewer than N={too_many[0]} plus rows left to rank")
    if repeats < 1:
        raise InputError("--repeats must be at least 1")
    records = [Record(title=t) for t in data.texts]
    prepare(records, matcher)
    prior = keyword_prior(records)
    curve = []
    for n in sizes:
        runs = {m: [] for m in METHODS}
        for rep in range(repeats):
            rng = np.random.default_rng([seed, n, rep])
            chosen = _draw(data.labels, n, rng)
            rest = np.setdiff1d(np.arange(len(data.labels)), chosen)
            model = train([records[i] for i in chosen], data.labels[chosen], seed=seed + rep)
            y = data.labels[rest]
            for method, scores in (("ranker", model.score([records[i] for i in rest])), ("keyword", prior[rest]),
                                   ("random", rng.random(len(rest)))):
                # ROC AUC too, for comparison with published figures (text output only: the JSON is fixed)
                runs[method].append({**metrics.figures(y, scores), "roc_auc": roc_auc_score(y, scores)})
            if progress:
                progress(n, rep)
        point = {"labels": n}
        for m in METHODS:
            point[m] = {k: round(float(np.mean([r[k] for r in runs[m]])), 4) for k in KEYS}
            point.setdefault("spread", {})[m] = {k: round(float(np.std([r[k] for r in runs[m]])), 4)
                                                 for k in (*KEYS, "roc_auc")}
            point.setdefault("roc_auc", {})[m] = round(float(np.mean([r["roc_auc"] for r in runs[m]])), 4)
        curve.append(point)
    return {"rows": int(len(data.labels)), "positives": int(data.labels.sum()), "curve": curve}


def as_json(result: dict) -> dict:
    """Exactly the documented shape: rows, positives, and per N the four figures of each method."""
    return {"rows": result["rows"], "positives": result["positives"],
            "curve": [{"labels": p["labels"], **{m: p[m] for m in METHODS}} for p in result["curve"]]}


def as_text(result: dict, repeats: int) -> str:
    short = {"average_precision": "AP", "precision_at_recall_90": "P@R90", "precision_at_recall_95": "P@R95",
             "recall_top_20pct": "R@top20%"}
    lines = [f"{result['rows']} rows, {result['positives']} positive; mean (± sd) over {repeats} repeat(s), "
             "figures on the rows not drawn as labels"]
    lines.append(f"{'labels':>6}  {'order':8s}" + "".join(f"{short[k]:>16s}" for k in KEYS) + f"{'ROC AUC':>16s}")
    for p in result["curve"]:
        for m in METHODS:
            cells = "".join(f"{p[m][k]:>9.3f} ±{p['spread'][m][k]:.3f}" for k in KEYS)
            cells += f"{p['roc_auc'][m]:>9.3f} ±{p['spread'][m]['roc_auc']:.3f}"
            lines.append(f"{p['labels']:>6}  {m:8s}{cells}")
    return "\n".join(lines)
