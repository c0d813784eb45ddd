"""The audit trail in words: what an entry is about (with a link where the thing has a page) and what changed,
instead of table names and JSON. The raw record stays one click away for whoever must quote it."""
from __future__ import annotations

import json

ENTITIES = {"review_queue": ("queue item", "/item/{}"), "referral": ("referral", "/referrals/{}"),
            "network": ("seller network", "/network/{}"), "listing": ("listing", None), "user": ("user", None),
            "export": ("export", None), "report": ("report", "/reports/{}"), "listing_photos": ("photos", None),
            "hand_find": ("offer found by hand", None), "ranker_model": ("ranker model", None),
            "session": ("session", None)}
ACTIONS = {"claim": "took", "decide": "decided", "release": "let go", "undo": "undid a decision",
           "correct": "corrected a decision", "user_add": "added a user", "export": "exported",
           "purge_photos": "purged photos", "report_regenerate": "wrote a report again"}


def entity(name: str, entity_id: str | None) -> dict:
    label, link = ENTITIES.get(name, (name.replace("_", " "), None))
    return {"label": f"{label} {entity_id}" if entity_id else label,
            "href": link.format(entity_id) if link and entity_id and entity_id.isdigit() else None}


def action(name: str) -> str:
    return ACTIONS.get(name, name.replace("_", " "))


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in value.items()) or "—"
    return str(value).replace("_", " ") if isinstance(value, str) and " " not in value else str(value)


def changes(before: dict | None, after: dict | None) -> list[dict]:
    """[{field, before, after}] for every field either side names; `before` None when the entry only sets it."""
    before, after = before or {}, after or {}
    rows = []
    for key in list(after) + [k for k in before if k not in after]:
        was, now = before.get(key), after.get(key)
        if key in before and key in after and was == now:
            continue
        rows.append({"field": key.replace("_", " "), "before": _text(was) if key in before else None,
                     "after": _text(now) if key in after else "removed"})
    return rows


def raw(before, after) -> str:
    return json.dumps({"before": before, "after": after}, ensure_ascii=False, default=str)
