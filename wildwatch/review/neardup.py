"""Near-duplicate queue items: the same offer posted again and again ("Vòng ngà voi thật", "Vòng ngà voi thật
hàng đẹp", "Vòng ngà voi thật giá tốt") is shown as one group, which an analyst may decide on at once after
seeing every member. Two items are near-identical when their folded titles are (one contains the other, or
their character bigrams mostly agree) or when they share a photo (perceptual hashes a few bits apart)."""
from __future__ import annotations

import re

from wildwatch.matching import fold

MIN_CONTAINED = 6  # a title this short inside another ("ngavoi") says little
MIN_BIGRAM_JACCARD = 0.8
MAX_PHOTO_BITS = 6  # the demo's re-encoded, resized, cropped and watermarked copies are 0-10 bits apart
_NON_WORD = re.compile(r"[\W_]+")


def compact(title: str | None) -> str:
    return _NON_WORD.sub("", fold(title or ""))


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} or {text}


def similar_titles(a: str, b: str, bigrams: tuple[set[str], set[str]] | None = None) -> bool:
    """a and b are compact folded titles (their bigram sets may be given, worked out once per title)."""
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    if short == long or (len(short) >= MIN_CONTAINED and short in long):
        return True
    x, y = bigrams or (_bigrams(a), _bigrams(b))
    if min(len(x), len(y)) < MIN_BIGRAM_JACCARD * max(len(x), len(y)):
        return False  # the overlap cannot reach the threshold
    return len(x & y) / len(x | y) >= MIN_BIGRAM_JACCARD


def _photos_meet(a: list[int], b: list[int]) -> bool:
    return any(bin((p ^ q) & 0xFFFFFFFFFFFFFFFF).count("1") <= MAX_PHOTO_BITS for p in a for q in b)


def group(rows: list[dict]) -> list[list[dict]]:
    """The rows (each with "title" and optionally "phashes") in groups of near-identical items, each group in
    the rows' order and the groups in the order of their first member."""
    keys = [compact(r["title"]) for r in rows]
    grams = [_bigrams(k) for k in keys]
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            if find(i) == find(j):
                continue
            if similar_titles(keys[i], keys[j], (grams[i], grams[j])) or _photos_meet(rows[i].get("phashes") or [],
                                                                 rows[j].get("phashes") or []):
                parent[max(find(i), find(j))] = min(find(i), find(j))
    groups: dict[int, list[dict]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(find(i), []).append(row)
    return list(groups.values())
