"""Takedown follow-up: which referred listings to revisit, what a revisit found, and per platform how
many of the referred ads were removed, how soon."""
from __future__ import annotations

import datetime as dt

from wildwatch import lifecycle
from wildwatch.db import dict_cursor
from wildwatch.evidence import capture


def due(conn) -> list[dict]:
    """Listings in referrals that went out (sent or acknowledged) and are not yet seen removed."""
    with dict_cursor(conn) as cur:
        cur.execute("""
            SELECT DISTINCT l.id AS listing_id, l.url, s.name AS site
            FROM referral_items ri JOIN referrals f ON f.id = ri.referral_id
            JOIN listings l ON l.id = ri.listing_id JOIN sites s ON s.id = l.site_id
            WHERE f.status IN ('sent', 'acknowledged')
              AND NOT EXISTS (SELECT 1 FROM takedown_checks c WHERE c.listing_id = l.id AND c.outcome = 'removed')
            ORDER BY l.id""")
        return cur.fetchall()


def outcome(status: int, removed_marker_found: bool) -> tuple[str, str]:
    """What a revisit means. 404/410 and a 'removed' notice are removals; anything else odd is an error to
    try again next week, never a removal (a site that is down has not removed anything)."""
    if status in (404, 410):
        return "removed", f"HTTP {status}"
    if 200 <= status < 300:
        return ("removed", "page says the listing was removed") if removed_marker_found else ("live", f"HTTP {status}")
    return "error", f"HTTP {status}"


def record(conn, listing_id: int, result: str, http_status: int | None, detail: str,
           evidence_row: dict | None = None, checked_at: dt.datetime | None = None) -> int:
    evidence_id = capture.record_check_evidence(conn, listing_id, evidence_row) if evidence_row else None
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO takedown_checks (listing_id, checked_at, outcome, http_status, detail, evidence_id)
                       VALUES (%s, coalesce(%s, now()), %s, %s, %s, %s) RETURNING id, checked_at""",
                    (listing_id, checked_at, result, http_status, detail, evidence_id))
        check_id, at = cur.fetchone()
    if result == "removed":
        lifecycle.mark_removed(conn, listing_id, at)
    return check_id


# Each listing counts once per platform, from the first referral that went out with it.
STATS = """
WITH referred AS (
    SELECT DISTINCT ON (f.recipient, ri.listing_id) f.recipient AS platform, f.id AS referral_id,
           ri.listing_id, f.sent_at
    FROM referral_items ri JOIN referrals f ON f.id = ri.referral_id
    WHERE f.recipient_kind = 'platform' AND f.sent_at IS NOT NULL
      AND (%(referral)s::bigint IS NULL OR f.id = %(referral)s)
    ORDER BY f.recipient, ri.listing_id, f.sent_at
), outcome AS (
    SELECT r.*, (SELECT min(c.checked_at) FROM takedown_checks c
                 WHERE c.listing_id = r.listing_id AND c.outcome = 'removed' AND c.checked_at >= r.sent_at) AS removed_at
    FROM referred r
)
SELECT {group} AS key, count(*) AS referred, count(removed_at) AS removed,
       count(*) FILTER (WHERE removed_at <= sent_at + interval '7 days') AS removed_7d,
       count(*) FILTER (WHERE removed_at <= sent_at + interval '30 days') AS removed_30d,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM removed_at - sent_at) / 86400.0)
           FILTER (WHERE removed_at IS NOT NULL) AS median_days_to_removal
FROM outcome GROUP BY 1 ORDER BY 1
"""


def _shares(row: dict) -> dict:
    n = row["referred"]
    row["share_removed_7d"] = row["removed_7d"] / n if n else None
    row["share_removed_30d"] = row["removed_30d"] / n if n else None
    row["share_removed"] = row["removed"] / n if n else None
    return row


def stats_by_platform(conn) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute(STATS.format(group="platform"), {"referral": None})
        return [_shares(dict(r)) for r in cur.fetchall()]


def stats_for_referral(conn, referral_id: int) -> dict | None:
    with dict_cursor(conn) as cur:
        cur.execute(STATS.format(group="referral_id"), {"referral": referral_id})
        row = cur.fetchone()
        return _shares(dict(row)) if row else None
