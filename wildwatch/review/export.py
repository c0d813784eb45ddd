"""Confirmed offers for platforms and partners, as CSV or JSON."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

from wildwatch.db import dict_cursor

COLUMNS = ("queue_id", "site", "country", "url", "title", "price", "currency", "seller", "location",
           "product_group", "species", "decided_by", "decided_at", "survey_month", "note")
# A cell starting with one of these is a formula to a spreadsheet: scraped text must never run as one.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def confirmed(conn, month: str | None = None, site: str | None = None, country: str | None = None) -> list[dict]:
    period = dt.date.fromisoformat(f"{month}-01") if month else None
    with dict_cursor(conn) as cur:
        cur.execute("""
            SELECT q.id AS queue_id, s.name AS site, s.country, l.url, l.title, l.price, l.currency, l.seller,
                   l.location, d.product_group, d.species, d.decided_by, d.decided_at, r.period AS survey_month, d.note
            FROM review_queue q
            JOIN LATERAL (SELECT * FROM review_decisions d WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1) d ON true
            JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id JOIN crawl_runs r ON r.id = q.run_id
            WHERE d.decision = 'confirmed' AND q.status = 'decided'
              AND (%(period)s::date IS NULL OR r.period = %(period)s)
              AND (%(site)s::text IS NULL OR s.name = %(site)s)
              AND (%(country)s::text IS NULL OR s.country = %(country)s)
            ORDER BY q.id""", {"period": period, "site": site, "country": country})
        rows = cur.fetchall()
    for row in rows:
        row["price"] = str(row["price"]) if row["price"] is not None else None
        row["decided_at"] = row["decided_at"].isoformat()
        row["survey_month"] = row["survey_month"].strftime("%Y-%m")
    return rows


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def to_json(rows: list[dict]) -> str:
    return json.dumps([{c: row[c] for c in COLUMNS} for row in rows], ensure_ascii=False, indent=1)
