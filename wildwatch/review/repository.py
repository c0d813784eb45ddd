"""Queries of the review app."""
from __future__ import annotations

from wildwatch.db import dict_cursor


# (inside the page query, on the page's rows)
SORTS = {"ranker": ("q.priority DESC, q.id", "priority DESC, id"),
         "keywords": ("l.score DESC, q.id", "keyword_score DESC, id")}


# The filters an analyst can set on the queue; "Next item" follows the same ones (claims.claim_next).
FILTERS = ("site", "country", "group", "language", "month", "q")

# A queue item matching the filters (parameters named as in FILTERS). `q` is a text search in the title,
# description and seller; LIKE's own wildcards in it are taken literally.
FILTER_SQL = """
      (%(site)s::text IS NULL OR s.name = %(site)s)
  AND (%(country)s::text IS NULL OR s.country = %(country)s)
  AND (%(language)s::text IS NULL OR l.language = %(language)s)
  AND (%(month)s::text IS NULL OR EXISTS (SELECT 1 FROM crawl_runs r WHERE r.id = q.run_id
                                           AND to_char(r.period, 'YYYY-MM') = %(month)s))
  AND (%(group)s::text IS NULL OR EXISTS (SELECT 1 FROM keyword_matches g
                                          WHERE g.listing_id = l.id AND g.product_group = %(group)s))
  AND (%(q)s::text IS NULL OR concat_ws(' ', l.title, l.description, l.seller) ILIKE %(q_like)s)
"""


def filter_params(**filters) -> dict:
    params = {key: filters.get(key) or None for key in FILTERS}
    text = params["q"] or ""
    params["q_like"] = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return params


def queue_page(conn, site=None, country=None, group=None, language=None, month=None, q=None, limit=100,
               sort: str = "ranker") -> list[dict]:
    """Items waiting or held; month is the survey month (YYYY-MM) that queued them. sort: 'ranker' (the queue's
    own order: the active model's score, the keyword score without one) or 'keywords'. The page is chosen
    first (an index walk in queue order); groups and thumbnails are looked up for its rows only."""
    inner, outer = SORTS.get(sort, SORTS["ranker"])
    with dict_cursor(conn) as cur:
        cur.execute("""
            WITH page AS (
                SELECT q.id, q.status, q.priority, q.claimed_by, q.listing_id, l.title, l.price, l.currency,
                       s.name AS site, s.country, l.score AS keyword_score, l.rank_score, l.language
                FROM review_queue q JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
                WHERE q.status IN ('pending', 'claimed') AND """ + FILTER_SQL + """
                ORDER BY """ + inner + """ LIMIT %(limit)s)
            SELECT page.*,
                   coalesce((SELECT array_agg(DISTINCT m.product_group) FROM keyword_matches m
                             WHERE m.listing_id = page.listing_id), '{}') AS groups,
                   (SELECT p.id FROM listing_photos p WHERE p.listing_id = page.listing_id
                      AND p.thumb_sha256 IS NOT NULL ORDER BY p.position LIMIT 1) AS thumb,
                   (SELECT array_agg(p.phash) FROM listing_photos p WHERE p.listing_id = page.listing_id
                      AND p.phash IS NOT NULL) AS phashes
            FROM page ORDER BY """ + outer,
                    {**filter_params(site=site, country=country, group=group, language=language, month=month, q=q),
                     "limit": limit})
        return cur.fetchall()


def filter_choices(conn, groups: list[str]) -> dict[str, list[str]]:
    """The values each queue filter can take, from the data (small tables only: this is on every queue page)."""
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT name FROM sites ORDER BY 1")
        sites = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT DISTINCT country FROM sites ORDER BY 1")
        countries = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT DISTINCT unnest(languages) FROM sites ORDER BY 1")
        languages = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT DISTINCT to_char(period, 'YYYY-MM') FROM crawl_runs ORDER BY 1 DESC")
        months = [r[0] for r in cur.fetchall()]
    return {"site": sites, "country": countries, "group": sorted(groups), "language": languages, "month": months}


PROGRESS_CAP = 500  # "500+ left": counting a 100,000-item queue on every page view is not worth it


def progress(conn, user: str, **filters) -> dict:
    """What is left in the analyst's filter (counted up to PROGRESS_CAP) and what they decided today."""
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*) FROM (
                           SELECT 1 FROM review_queue q JOIN listings l ON l.id = q.listing_id
                           JOIN sites s ON s.id = l.site_id
                           WHERE q.status IN ('pending', 'second_review') AND """ + FILTER_SQL + """
                           LIMIT %(cap)s) AS waiting""", {**filter_params(**filters), "cap": PROGRESS_CAP + 1})
        left = cur.fetchone()[0]
        cur.execute("""SELECT count(*) FROM review_decisions WHERE decided_by = %s
                         AND decided_at >= date_trunc('day', now())""", (user,))
        today = cur.fetchone()[0]
    return {"left": left, "more": left > PROGRESS_CAP, "cap": PROGRESS_CAP, "decided_today": today}


def my_decisions(conn, user: str, limit: int = 200) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT d.queue_id, d.decision, d.product_group, d.species, d.note, d.decided_at, l.title,
                              s.name AS site, s.country, q.status
                       FROM review_decisions d JOIN listings l ON l.id = d.listing_id
                       JOIN sites s ON s.id = l.site_id JOIN review_queue q ON q.id = d.queue_id
                       WHERE d.decided_by = %s ORDER BY d.id DESC LIMIT %s""", (user, limit))
        return cur.fetchall()


def item(conn, queue_id: int) -> dict | None:
    with dict_cursor(conn) as cur:
        # l.* first: its own status (active/gone) must not shadow the queue item's.
        cur.execute("""SELECT l.*, l.status AS listing_status, q.id AS queue_id, q.status, q.claimed_by,
                              q.lease_expires_at, s.name AS site, s.country
                       FROM review_queue q JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
                       WHERE q.id = %s""", (queue_id,))
        row = cur.fetchone()
        if row is None:
            return None
        cur.execute("""SELECT field, span_start, span_end, product_group, term, kind FROM keyword_matches
                       WHERE listing_id = %s ORDER BY span_start""", (row["id"],))
        row["matches"] = cur.fetchall()
        # One line per survey month and asking price: repeated runs of a day (retries, shards, re-runs) are
        # one sighting, a price change within the month is a line of its own.
        cur.execute("""SELECT to_char(r.period, 'YYYY-MM') AS month, min(si.seen_at)::date AS first_seen,
                              max(si.seen_at)::date AS last_seen, count(DISTINCT si.run_id) AS runs,
                              si.price, CASE WHEN si.price IS NOT NULL THEN si.currency END AS currency
                       FROM sightings si JOIN crawl_runs r ON r.id = si.run_id WHERE si.listing_id = %s
                       GROUP BY 1, si.price, 6 ORDER BY min(si.seen_at), min(si.id)""", (row["id"],))
        row["sightings"] = cur.fetchall()
        cur.execute("""SELECT kind, value, field, span_start, span_end FROM listing_contacts WHERE listing_id = %s
                       ORDER BY field, span_start""", (row["id"],))
        row["contacts"] = cur.fetchall()
        cur.execute("""SELECT id, position, media_type, width, height, size_bytes, missing_reason, sha256, thumb_sha256,
                              ocr_text FROM listing_photos WHERE listing_id = %s ORDER BY position""", (row["id"],))
        row["photos"] = cur.fetchall()
        cur.execute("""SELECT pl.distance, CASE WHEN pl.listing_a = %(id)s THEN pl.photo_a ELSE pl.photo_b END AS mine,
                              CASE WHEN pl.listing_a = %(id)s THEN pl.photo_b ELSE pl.photo_a END AS theirs,
                              o.title, s.name AS site, s.country, q.id AS queue_id
                       FROM photo_links pl
                       JOIN listings o ON o.id = CASE WHEN pl.listing_a = %(id)s THEN pl.listing_b ELSE pl.listing_a END
                       JOIN sites s ON s.id = o.site_id LEFT JOIN review_queue q ON q.listing_id = o.id
                       WHERE pl.listing_a = %(id)s OR pl.listing_b = %(id)s ORDER BY pl.distance, o.id""",
                    {"id": row["id"]})
        row["photo_links"] = cur.fetchall()
        cur.execute("""SELECT DISTINCT ON (kind) id, kind, sha256, media_type, page_url, captured_at, missing_reason,
                              crawler_version
                       FROM evidence WHERE listing_id = %s AND purpose = 'capture'
                       ORDER BY kind, captured_at DESC""", (row["id"],))
        row["evidence"] = cur.fetchall()
        return row


def photo(conn, photo_id: int) -> dict | None:
    with dict_cursor(conn) as cur:
        cur.execute("SELECT id, listing_id, sha256, thumb_sha256, media_type FROM listing_photos WHERE id = %s",
                    (photo_id,))
        return cur.fetchone()


def evidence(conn, evidence_id: int) -> dict | None:
    with dict_cursor(conn) as cur:
        cur.execute("SELECT id, listing_id, kind, sha256, media_type, page_url FROM evidence WHERE id = %s",
                    (evidence_id,))
        return cur.fetchone()


def items_brief(conn, queue_ids: list[int]) -> list[dict]:
    """Queue items side by side (the near-duplicate group page), in the order asked."""
    with dict_cursor(conn) as cur:
        # Blind second reviews: an item awaiting one reads as pending and names nobody.
        cur.execute("""SELECT q.id, CASE WHEN q.status = 'second_review' THEN 'pending' ELSE q.status END AS status,
                              CASE WHEN q.status = 'claimed' THEN q.claimed_by END AS claimed_by,
                              l.title, l.description, l.price, l.currency, l.seller, s.name AS site, s.country,
                              (SELECT p.id FROM listing_photos p WHERE p.listing_id = l.id
                                 AND p.thumb_sha256 IS NOT NULL ORDER BY p.position LIMIT 1) AS thumb,
                              coalesce((SELECT array_agg(DISTINCT m.product_group) FROM keyword_matches m
                                        WHERE m.listing_id = l.id), '{}') AS groups
                       FROM review_queue q JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
                       WHERE q.id = ANY(%s)""", (queue_ids,))
        found = {r["id"]: r for r in cur.fetchall()}
    return [found[i] for i in queue_ids if i in found]
