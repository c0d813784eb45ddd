"""Crawl health: what a site's crawl found compared with the same site's previous run. A redesign that
empties a field, or a site that quietly returns far fewer listings, must not look like a quiet month."""
from __future__ import annotations

COVERAGE_FIELDS = ("title", "price", "seller", "location")
MIN_ITEMS_FOR_TREND = 10  # below this, month-to-month swings mean nothing
MAX_ITEMS_DROP = 0.5  # listings falling by more than half
MAX_COVERAGE_DROP = 0.3  # a field's share of listings falling by more than 30 points
MIN_SILENT_QUERIES = 3


def coverage(items: int, field_counts: dict[str, int]) -> dict[str, float]:
    return {f: round(field_counts.get(f, 0) / items, 3) if items else 0.0 for f in COVERAGE_FIELDS}


def compare(current: dict, previous: dict | None) -> list[str]:
    """Warnings, each a sentence an analyst can act on; none when there is no earlier run to compare."""
    if not previous or previous.get("items", 0) < MIN_ITEMS_FOR_TREND:
        return []
    warnings = []
    before, now = previous.get("items", 0), current.get("items", 0)
    if now < before * (1 - MAX_ITEMS_DROP):
        warnings.append(f"listings fell from {before} to {now} since the previous run")
    old_cov, new_cov = previous.get("coverage") or {}, current.get("coverage") or {}
    for field in COVERAGE_FIELDS:
        if field in old_cov and old_cov[field] - new_cov.get(field, 0.0) > MAX_COVERAGE_DROP:
            warnings.append(f"{field} coverage fell from {old_cov[field]:.0%} to {new_cov.get(field, 0.0):.0%}")
    old_q, new_q = previous.get("query_results") or {}, current.get("query_results") or {}
    productive = [q for q, n in old_q.items() if n and q in new_q]
    silent = [q for q in productive if not new_q.get(q)]
    if len(silent) >= MIN_SILENT_QUERIES and len(silent) * 2 >= len(productive):
        warnings.append(f"{len(silent)} of {len(productive)} search terms that found listings last run found none "
                        f"(e.g. {', '.join(silent[:3])})")
    return warnings
