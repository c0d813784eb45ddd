"""Blind second reviews, as an analyst's pages show them. Only confirmations are reviewed twice, so the
status "second review" alone would tell the second reviewer what the first said: to analysts it reads as
"pending", and no page names who decided or held an item before them. Supervisors see everything."""
from __future__ import annotations


def status(value: str | None) -> str | None:
    return "pending" if value == "second_review" else value


def audit_entry(row: dict, viewer: str) -> dict:
    """An analyst's own audit row with what it recorded about others' earlier work left out."""
    out = dict(row)
    for side in ("before", "after"):
        value = out.get(side)
        if isinstance(value, dict):
            value = {k: status(v) if k == "status" else v for k, v in value.items()
                     if not (k == "claimed_by" and v not in (None, viewer))}
            out[side] = value
    return out
