"""Precision and recall of "would be queued" against a labelled CSV."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wildwatch import labelled, matching


@dataclass
class Row:
    text: str
    label: int
    score: float
    reasons: list[str]
    group: str | None = None


def _counts(rows: list[Row], threshold: float) -> dict:
    tp = sum(1 for r in rows if r.label and r.score >= threshold)
    fp = sum(1 for r in rows if not r.label and r.score >= threshold)
    fn = sum(1 for r in rows if r.label and r.score < threshold)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"rows": len(rows), "positives": sum(r.label for r in rows),
            "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate(matcher: matching.Matcher, path: Path, text_column: str, label_column: str, threshold: float,
             group: str | None = None, group_column: str = "group", worst: int = 10,
             skip_unlabelled: bool = False, by: str | None = None) -> dict:
    """`by`: a column whose values (a language, a product group, a site) each get their own counts."""
    wanted = tuple(dict.fromkeys(c for c in ((group_column,) if group else ()) + ((by,) if by else ())))
    try:
        data = labelled.read(path, text_column, label_column, skip_unlabelled=skip_unlabelled,
                             other_columns=wanted)
    except labelled.InputError as exc:
        if group and exc.missing == (group_column,):
            raise labelled.InputError(f"{path}: --group needs a '{group_column}' column") from None
        if by and exc.missing == (by,):
            raise labelled.InputError(f"{path}: --by {by}: no such column") from None
        raise
    groups = data.columns.get(group_column) or [None] * len(data.texts)
    values = data.columns.get(by) if by else [None] * len(data.texts)
    rows, row_values = [], []
    for text, label, row_group, value in zip(data.texts, data.labels, groups, values, strict=True):
        if group and row_group != group and label == 1:
            continue  # another group's offer: neither a hit nor a miss for this group
        found = matcher.match_listing(text, None)
        if group:
            found = [m for m in found if m.group == group]
        result = matching.score(found)
        rows.append(Row(text, label, result.value, result.reasons, row_group))
        row_values.append(value)
    false_pos = sorted((r for r in rows if not r.label and r.score >= threshold), key=lambda r: -r.score)
    false_neg = sorted((r for r in rows if r.label and r.score < threshold), key=lambda r: r.score)
    as_dict = lambda r: {"text": r.text, "score": r.score, "reasons": r.reasons}  # noqa: E731
    split = {}
    if by:
        for value in sorted({v or "" for v in row_values}):
            split[value] = _counts([r for r, v in zip(rows, row_values, strict=True) if (v or "") == value], threshold)
    return {**_counts(rows, threshold), "threshold": threshold, "group": group,
            "skipped_unlabelled": data.skipped, "by": {by: split} if by else {},
            "worst_false_positives": [as_dict(r) for r in false_pos[:worst]],
            "worst_false_negatives": [as_dict(r) for r in false_neg[:worst]]}
