"""A listing's life across monthly runs: new the first time a run sees it, seen again later, and gone
when a complete monthly crawl of its site no longer finds it, or when its page says it was removed."""
from __future__ import annotations

import datetime as dt

MARK_NOT_FOUND = """
UPDATE listings l SET status = 'gone', gone_run_id = %(run_id)s, gone_at = now(), gone_reason = 'not_found'
WHERE l.site_id = %(site_id)s AND l.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM sightings s WHERE s.listing_id = l.id AND s.run_id = %(run_id)s)
  AND EXISTS (SELECT 1 FROM crawl_runs r WHERE r.id = %(run_id)s AND r.kind = 'monthly')
"""


def lifecycle_blocker(run_kind: str | None, status: str, stats: dict, partial_search: bool) -> str | None:
    """Why this crawl cannot tell that a listing is gone (None when it can): only a complete, clean monthly
    crawl searched everywhere a listing could have been found."""
    if run_kind != "monthly":
        return "not a monthly run"
    if partial_search:
        return "searched only some groups or queries"
    if status != "succeeded":
        return "crawl did not succeed"
    if stats.get("errors") or stats.get("spooled") or stats.get("finish_reason") != "finished":
        return "crawl had errors or was interrupted"
    return None


def mark_not_found(conn, run_id: int, site_id: int) -> int:
    with conn.cursor() as cur:
        cur.execute(MARK_NOT_FOUND, {"run_id": run_id, "site_id": site_id})
        return cur.rowcount


def mark_removed(conn, listing_id: int, when: dt.datetime | None = None) -> None:
    with conn.cursor() as cur:
        cur.execute("""UPDATE listings SET status = 'gone', gone_reason = 'removed',
                           gone_at = coalesce(%s, now()), gone_run_id = NULL
                       WHERE id = %s AND (status = 'active' OR gone_reason = 'not_found')""", (when, listing_id))


def run_counts(conn, run_id: int) -> dict[str, int]:
    """New, seen again and gone in this run, for the run summary and the monthly report."""
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*) FILTER (WHERE l.first_run_id = %(r)s),
                              count(*) FILTER (WHERE l.first_run_id <> %(r)s)
                       FROM sightings s JOIN listings l ON l.id = s.listing_id WHERE s.run_id = %(r)s""",
                    {"r": run_id})
        new, again = cur.fetchone()
        cur.execute("SELECT count(*) FROM listings WHERE gone_run_id = %s", (run_id,))
        gone = cur.fetchone()[0]
    return {"new": new, "seen_again": again, "gone": gone}
