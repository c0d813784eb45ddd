"""Asking prices of confirmed offers, as trade analyses report them: per product group and country, in the
listing's currency and in US dollars (the shipped, dated rates), median and quartiles, count and change from
last month; per kilogram or per piece where the listing states a quantity; lots and fake prices set apart.

An asking price is not a sale price: the report says so beside the table."""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from wildwatch import money

# A stated quantity in the surveyed languages: "1kg", "500 gam", "2 lạng", "200克", "1 斤", "3 pcs", "vipande 5".
_NUMBER = r"(\d+(?:[.,]\d+)?)"
GRAMS_PER = {"kg": 1000, "kgs": 1000, "kilo": 1000, "kilos": 1000, "kilogram": 1000, "kilograms": 1000,
             "kilogramme": 1000, "kilogrammes": 1000, "cân": 1000, "ký": 1000, "公斤": 1000, "千克": 1000,
             "斤": 500, "两": 50, "lạng": 100,
             "g": 1, "gr": 1, "gram": 1, "grams": 1, "gam": 1, "gramme": 1, "grammes": 1, "克": 1}
PIECE_WORDS = ("pcs", "pc", "pieces", "piece", "pièces", "pièce", "chiếc", "cái", "件", "个", "只", "vipande", "kipande")
WEIGHT = re.compile(_NUMBER + r"\s*(" + "|".join(sorted(map(re.escape, GRAMS_PER), key=len, reverse=True))
                    + r")(?![A-Za-zÀ-ỹ])", re.IGNORECASE)
PIECES = re.compile(_NUMBER + r"\s*(" + "|".join(map(re.escape, PIECE_WORDS)) + r")(?![A-Za-zÀ-ỹ])"
                    r"|(?:vipande|pcs)\s*" + _NUMBER, re.IGNORECASE)
# A price no seller asks for the thing itself: 1, 9999, 999999, 123456 (placeholders, "ask me").
PLACEHOLDER = re.compile(r"^(?:0*1|9{3,}|12345\d*|1{4,}|0)$")
MAX_LOT_GRAMS = 10_000  # over 10 kg, or
MAX_LOT_PIECES = 50  # over 50 pieces: a wholesale lot, not an item's price


@dataclass(frozen=True)
class Quantity:
    unit: str  # "kg" or "piece"
    amount: float  # in kilograms or pieces


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def quantity(text: str | None) -> Quantity | None:
    """The weight (in kg) or number of pieces a listing states, or None."""
    text = text or ""
    for weight in WEIGHT.finditer(text):
        if weight.group(2) == "G":
            continue  # "4G", "5G": a network, not grams
        grams = _number(weight.group(1)) * GRAMS_PER[weight.group(2).lower()]
        if grams > 0:
            return Quantity("kg", grams / 1000)
    pieces = PIECES.search(text)
    if pieces:
        count = _number(pieces.group(1) or pieces.group(3))
        if count >= 1:
            return Quantity("piece", count)
    return None


def outlier_reason(price: float | None, usd: float | None, qty: Quantity | None) -> str | None:
    if price is None or price <= 0:
        return "no price"
    if PLACEHOLDER.match(f"{price:.0f}") or (usd is not None and usd < 1):
        return "placeholder price"
    if qty and ((qty.unit == "kg" and qty.amount * 1000 > MAX_LOT_GRAMS)
                or (qty.unit == "piece" and qty.amount > MAX_LOT_PIECES)):
        return "lot"
    return None


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def table(offers: list[dict], previous: list[dict]) -> list[dict]:
    """offers / previous: [{product_group, country, price, currency, title, description}] of the month and the
    month before. One row per product group, country and currency."""
    def usable(rows):
        out, dropped = {}, {}
        for r in rows:
            price = float(r["price"]) if r["price"] is not None else None
            usd = money.usd(price, r["currency"]) if price is not None else None
            usd = float(usd) if usd is not None else None
            qty = quantity(f"{r.get('title') or ''} {r.get('description') or ''}")
            key = (r["product_group"], r["country"], r["currency"] or "?")
            why = outlier_reason(price, usd, qty)
            if why:
                dropped.setdefault(key, []).append(why)
                continue
            out.setdefault(key, []).append((price, usd, qty))
        return out, dropped

    now, dropped = usable(offers)
    before, _ = usable(previous)
    rows = []
    for key in sorted(set(now) | set(dropped)):
        group, country, currency = key
        found = now.get(key, [])
        prices = sorted(p for p, _, _ in found)
        usds = sorted(u for _, u, _ in found if u is not None)
        q1, median, q3 = _quartiles(prices) if prices else (None, None, None)
        median_usd = statistics.median(usds) if usds else None
        prev_usds = [u for _, u, _ in before.get(key, []) if u is not None]
        prev = statistics.median(prev_usds) if prev_usds else None
        per_kg = [u / q.amount for _, u, q in found if u is not None and q and q.unit == "kg"]
        per_piece = [u / q.amount for _, u, q in found if u is not None and q and q.unit == "piece"]
        reasons = dropped.get(key, [])
        rows.append({
            "product_group": group, "country": country, "currency": currency, "offers": len(found),
            "median": median, "q1": q1, "q3": q3, "median_usd": median_usd, "median_usd_prev": prev,
            "change": (median_usd / prev - 1) if median_usd and prev else None,
            "usd_per_kg": statistics.median(per_kg) if per_kg else None, "priced_by_weight": len(per_kg),
            "usd_per_piece": statistics.median(per_piece) if per_piece else None, "priced_by_piece": len(per_piece),
            "set_apart": ", ".join(f"{n} {why}" for why, n in sorted(
                {w: reasons.count(w) for w in reasons}.items())) if reasons else "",
        })
    return rows
