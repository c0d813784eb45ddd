"""Incremental surveys: a listing already stored whose search card (title, price, ... as the results page
shows them) is unchanged since its last detail fetch is read from what that fetch extracted, instead of
fetching its page again. The item it makes is the one the page would have made, so the pipelines (keyword
lists and ranker of today, sighting, queue) treat it exactly as a fetched one."""
from __future__ import annotations

import hashlib
import json

# Search-result keys that are not the card's content.
NOT_CARD = ("url", "link")


def card_hash(result: dict) -> str:
    """A fingerprint of what the results page shows of a listing."""
    card = {k: v for k, v in result.items() if k not in NOT_CARD}
    return hashlib.sha256(json.dumps(card, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def detail_item(seed: dict, fields: dict) -> dict:
    """The item a listing page makes: its search seed with the page's fields on top."""
    item = dict(seed)
    for key, value in fields.items():
        if value:
            item["image_urls" if key == "images" else key] = value
    return item


def reusable(known: dict | None, card: str | None) -> bool:
    """Whether a stored listing's last detail fetch can stand for fetching its page now."""
    return bool(known and card and known["card_hash"] == card and known["detail_fields"] is not None
                and not known["candidate_without_capture"])
