"""Prices as the currency's own users write them (4.653.000 ₫, ¥1,234.00, 45 000 FCFA), and a rough US-dollar
equivalent from the dated rates table the project ships (wildwatch/rates.yaml: no network, ever)."""
from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

import yaml

# (symbol, symbol after the amount, decimals, thousands separator, decimal mark)
STYLES = {
    "VND": ("₫", True, 0, ".", ","),
    "CNY": ("¥", False, 2, ",", "."),
    "JPY": ("¥", False, 0, ",", "."),
    "XAF": ("FCFA", True, 0, "\u202f", ","),
    "XOF": ("FCFA", True, 0, "\u202f", ","),
    "TZS": ("TSh", False, 0, ",", "."),
    "KES": ("KSh", False, 0, ",", "."),
    "EUR": ("€", True, 2, "\u202f", ","),
    "USD": ("US$", False, 2, ",", "."),
    "GBP": ("£", False, 2, ",", "."),
}


@functools.lru_cache(maxsize=1)
def rates() -> dict:
    doc = yaml.safe_load(resources.files("wildwatch").joinpath("rates.yaml").read_text(encoding="utf-8"))
    return {"date": str(doc["date"]), "source": doc["source"],
            "usd_per_unit": {k: Decimal(str(v)) for k, v in doc["usd_per_unit"].items()}}


def _group(digits: str, separator: str) -> str:
    out = []
    while len(digits) > 3:
        out.insert(0, digits[-3:])
        digits = digits[:-3]
    out.insert(0, digits)
    return separator.join(out)


def format_amount(amount, currency: str | None) -> str:
    """'4.653.000 ₫' for (4653000, 'VND'); an unknown currency as '1,234.50 ABC'; no amount: ''."""
    if amount is None:
        return ""
    value = Decimal(str(amount))
    symbol, after, decimals, thousands, mark = STYLES.get(currency or "", (currency or "", True, 2, ",", "."))
    if decimals == 2 and value == value.to_integral_value():
        decimals = 0  # "¥1,200" rather than "¥1,200.00": listings rarely price in cents
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    whole, _, frac = f"{abs(rounded):f}".partition(".")
    text = sign + _group(whole, thousands) + (mark + frac if decimals else "")
    if not symbol:
        return text
    return f"{text}\u00a0{symbol}" if after else (f"{symbol}\u00a0{text}" if symbol.isalpha() else f"{symbol}{text}")


def usd(amount, currency: str | None) -> Decimal | None:
    """The amount in US dollars at the shipped rate, or None when the currency has no rate."""
    if amount is None or not currency:
        return None
    rate = rates()["usd_per_unit"].get(currency)
    return None if rate is None else Decimal(str(amount)) * rate


def about_usd(amount, currency: str | None) -> str:
    """'≈ US$180' (two significant figures: the rates are rough), '' when there is no rate or it is USD."""
    value = usd(amount, currency)
    if value is None or currency == "USD":
        return ""
    if value == 0:
        return "≈ US$0"
    digits = max(0, 2 - len(str(int(abs(value)))))  # two significant figures
    rounded = round(float(value), digits) if value < 100 else round(float(value), -(len(str(int(value))) - 2))
    return f"≈ US${rounded:,.{digits}f}" if value < 100 else f"≈ US${int(rounded):,}"
