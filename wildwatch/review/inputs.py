"""Checking what a browser sends before it reaches a query: a bad value is the sender's error (a 4xx with a
readable page), never a server error. Python's \\d accepts any script's digits (full-width "２０２６"), so
months are matched on ASCII digits and a real month number."""
from __future__ import annotations

import re

from fastapi import HTTPException

MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
MAX_ID = 2 ** 63 - 1  # PostgreSQL's bigint


def is_month(value: str | None) -> bool:
    found = MONTH.fullmatch(value or "")
    return bool(found) and 1 <= int(found.group(2)) <= 12 and int(found.group(1)) >= 1900


def month(value: str | None, optional: bool = False) -> str | None:
    """A survey month YYYY-MM, or a 400."""
    if optional and not value:
        return None
    if not is_month(value):
        raise HTTPException(status_code=400, detail="a month is written YYYY-MM, e.g. 2026-11")
    return value


def no_nul(*values: str | None) -> None:
    if any(v and "\x00" in v for v in values):
        raise HTTPException(status_code=400, detail="text with a NUL character is not accepted")
