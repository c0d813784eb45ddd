"""Precision and recall of "would be queued" against a labelled CSV."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from wildwatch import matching


@dataclass
class Row:
    text: str
    label: int
    score: float
    reasons: list[str]
    group: str | None = None


def evaluate(matcher: matching.Matcher, path: Path, text_column: str, label_column: str, threshold: float,
             group: str | None = None, group_column: str = "group", worst: int = 10) -> dict:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {text_column, label_column} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(f"{path}: no column(s) {sorted(missing)}; columns are {reader.fieldnames}")
        if group and group_column not in (reader.fieldnames or []):
            raise ValueError(f"{path}: --group needs a '{group_column}' column")
        rows = []
        for line_no, record in enumerate(reader, start=2):
            label = str(record[label_column]).strip()
            if label not in ("0", "1"):
                raise ValueError(f"{path}:{line_no}: label must be 0 or 1, got {label!r}")
            if group and record.get(group_column) != group and label == "1":
                continue  # another group's offer: neither a hit nor a miss for this group
            found = matcher.match_listing(record[text_column], None)
            if group:
                found = [m for m in found if m.group == group]
            result = matching.score(found)
            rows.append(Row(record[text_column], int(label), result.value, result.reasons,
                            record.get(group_column)))
    tp = sum(1 for r in rows if r.label and r.score >= threshold)
    fp = sum(1 for r in rows if not r.label and r.score >= threshold)
    fn = sum(1 for r in rows if r.label and r.score < threshold)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    false_pos = sorted((r for r in rows if not r.label and r.score >= threshold), key=lambda r: -r.score)
    false_neg = sorted((r for r in rows if r.label and r.score < threshold), key=lambda r: r.score)
    as_dict = lambda r: {"text": r.text, "score": r.score, "reasons": r.reasons}  # noqa: E731
    return {"rows": len(rows), "positives": sum(r.label for r in rows), "threshold": threshold, "group": group,
            "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "worst_false_positives": [as_dict(r) for r in false_pos[:worst]],
            "worst_false_negatives": [as_dict(r) for r in false_neg[:worst]]}
