"""The report's tables, each one SQL query over what the survey recorded. `report_items` (one row per queue
item of the last twelve months, with its settled outcome and product group) is built once per report."""
from __future__ import annotations

import datetime as dt

from wildwatch.db import dict_cursor


def add_months(day: dt.date, n: int) -> dt.date:
    month = day.year * 12 + day.month - 1 + n
    return dt.date(month // 12, month % 12 + 1, 1)


# A queue item's product group: the analyst's correction, else the group most of its matches point at.
ITEMS = """
CREATE TEMP TABLE report_items ON COMMIT DROP AS
WITH scope AS (
    SELECT q.id AS queue_id, q.listing_id, q.status, q.reason = 'audit' AS audit, r.period,
           CASE WHEN s.kind = 'hand' THEN s.platform || ' (by hand)' ELSE s.name END AS platform, s.country,
           coalesce(l.language, '') AS language, l.seller, l.url
    FROM review_queue q JOIN crawl_runs r ON r.id = q.run_id
    JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
    WHERE r.period BETWEEN %(start)s AND %(month)s AND (%(country)s::text IS NULL OR s.country = %(country)s)
), top_group AS (
    SELECT DISTINCT ON (m.listing_id) m.listing_id, m.product_group
    FROM keyword_matches m JOIN scope ON scope.listing_id = m.listing_id
    WHERE m.kind <> 'innocent'
    GROUP BY m.listing_id, m.product_group ORDER BY m.listing_id, count(*) DESC, m.product_group
)
SELECT scope.*, ld.decision, ld.decided_by, nullif(trim(ld.species), '') AS species,
       coalesce(nullif(lower(trim(ld.product_group)), ''), tg.product_group, 'unknown') AS product_group,
       (scope.status = 'decided' AND ld.decision IS NOT NULL) AS settled,
       (scope.status = 'decided' AND ld.decision = 'confirmed') AS confirmed
FROM scope
LEFT JOIN LATERAL (SELECT d.decision, d.product_group, d.species, d.decided_by FROM review_decisions d
                   WHERE d.queue_id = scope.queue_id ORDER BY d.id DESC LIMIT 1) ld ON true
LEFT JOIN top_group tg ON tg.listing_id = scope.listing_id
"""

# "queued": what the filter queued; blind audit items count only as confirmed offers, once confirmed, and apart
# ("found_by_audit"): a row never reads "queued 2, confirmed 3" without saying where the third came from.
OFFERS = """
WITH cur AS (SELECT product_group, platform, country, language, count(*) FILTER (WHERE NOT audit) AS queued,
                    count(*) FILTER (WHERE confirmed AND NOT audit) AS confirmed_of_queued,
                    count(*) FILTER (WHERE confirmed AND audit) AS found_by_audit,
                    count(*) FILTER (WHERE confirmed) AS confirmed
             FROM report_items WHERE period = %(month)s GROUP BY 1, 2, 3, 4),
prev AS (SELECT product_group, platform, country, language, count(*) FILTER (WHERE NOT audit) AS queued,
                count(*) FILTER (WHERE confirmed) AS confirmed
         FROM report_items WHERE period = %(prev)s GROUP BY 1, 2, 3, 4)
SELECT coalesce(c.product_group, p.product_group) AS product_group, coalesce(c.platform, p.platform) AS platform,
       coalesce(c.country, p.country) AS country, coalesce(c.language, p.language) AS language,
       coalesce(c.queued, 0) AS queued, coalesce(c.confirmed_of_queued, 0) AS confirmed_of_queued,
       coalesce(c.found_by_audit, 0) AS found_by_audit, coalesce(c.confirmed, 0) AS confirmed,
       coalesce(p.queued, 0) AS queued_prev, coalesce(p.confirmed, 0) AS confirmed_prev,
       coalesce(c.confirmed, 0) - coalesce(p.confirmed, 0) AS confirmed_change
FROM cur c FULL JOIN prev p USING (product_group, platform, country, language)
ORDER BY confirmed DESC, queued DESC, product_group, platform, language
"""

# Offers analysts found by hand (social groups, messengers), counted apart from crawled ones.
HAND = """
SELECT s.platform, s.country, count(*) AS found_by_hand, count(*) FILTER (WHERE ri.confirmed) AS confirmed
FROM report_items ri JOIN listings l ON l.id = ri.listing_id JOIN sites s ON s.id = l.site_id
WHERE ri.period = %(month)s AND s.kind = 'hand'
GROUP BY s.platform, s.country ORDER BY found_by_hand DESC, s.platform, s.country
"""

TREND = """
SELECT product_group, to_char(period, 'YYYY-MM') AS month, count(*) FILTER (WHERE NOT audit) AS queued,
       count(*) FILTER (WHERE confirmed) AS confirmed
FROM report_items GROUP BY product_group, period ORDER BY product_group, period
"""

LIFECYCLE = """
WITH runs AS (SELECT id FROM crawl_runs WHERE period = %(month)s),
sites_in AS (SELECT id, name FROM sites WHERE %(country)s::text IS NULL OR country = %(country)s),
seen AS (SELECT l.site_id, count(*) FILTER (WHERE l.first_run_id IN (SELECT id FROM runs)) AS new,
                count(*) FILTER (WHERE l.first_run_id NOT IN (SELECT id FROM runs)) AS seen_again
         FROM (SELECT DISTINCT listing_id FROM sightings WHERE run_id IN (SELECT id FROM runs)) s
         JOIN listings l ON l.id = s.listing_id GROUP BY l.site_id),
gone AS (SELECT site_id, count(*) AS gone FROM listings
         WHERE gone_run_id IN (SELECT id FROM runs)
            OR (gone_reason = 'removed' AND gone_at >= %(month)s AND gone_at < %(next)s)
         GROUP BY site_id)
SELECT si.name AS platform, coalesce(seen.new, 0) AS new, coalesce(seen.seen_again, 0) AS seen_again,
       coalesce(gone.gone, 0) AS gone
FROM sites_in si LEFT JOIN seen ON seen.site_id = si.id LEFT JOIN gone ON gone.site_id = si.id
WHERE seen.site_id IS NOT NULL OR gone.site_id IS NOT NULL
ORDER BY si.name
"""

# Referrals sent this month, with what became of their listings so far.
REFERRALS = """
WITH sent AS (
    SELECT f.id, f.recipient_kind, f.recipient, f.sent_at FROM referrals f
    WHERE f.sent_at >= %(month)s AND f.sent_at < %(next)s
      AND (%(country)s::text IS NULL OR f.country = %(country)s
           OR (f.recipient_kind = 'platform' AND f.recipient IN (SELECT name FROM sites WHERE country = %(country)s)))
), items AS (
    SELECT sent.*, ri.listing_id,
           (SELECT min(c.checked_at) FROM takedown_checks c WHERE c.listing_id = ri.listing_id
              AND c.outcome = 'removed' AND c.checked_at >= sent.sent_at) AS removed_at
    FROM sent JOIN referral_items ri ON ri.referral_id = sent.id
)
SELECT recipient_kind, recipient, count(DISTINCT id) AS referrals_sent, count(*) AS listings_referred,
       count(removed_at) AS removed,
       count(*) FILTER (WHERE removed_at <= sent_at + interval '7 days') AS removed_7d,
       count(*) FILTER (WHERE removed_at <= sent_at + interval '30 days') AS removed_30d,
       round(count(*) FILTER (WHERE removed_at <= sent_at + interval '7 days')::numeric / count(*), 3)::float
           AS share_removed_7d,
       round(count(*) FILTER (WHERE removed_at <= sent_at + interval '30 days')::numeric / count(*), 3)::float
           AS share_removed_30d,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM removed_at - sent_at) / 86400.0)
              FILTER (WHERE removed_at IS NOT NULL))::numeric, 1)::float AS median_days_to_removal
FROM items GROUP BY recipient_kind, recipient ORDER BY recipient_kind, recipient
"""

# Which matched terms found this month's candidates, and how many of those analysts confirmed.
KEYWORD_YIELD = """
WITH hits AS (SELECT DISTINCT i.queue_id, i.settled, i.confirmed, lower(m.term) AS term, m.language, m.product_group
              FROM report_items i JOIN keyword_matches m ON m.listing_id = i.listing_id
              WHERE i.period = %(month)s AND m.kind NOT IN ('innocent'))
SELECT term, language, product_group, count(*) AS queued, count(*) FILTER (WHERE settled) AS decided,
       count(*) FILTER (WHERE confirmed) AS confirmed,
       round(count(*) FILTER (WHERE confirmed)::numeric / nullif(count(*) FILTER (WHERE settled), 0), 3)::float
           AS precision
FROM hits GROUP BY term, language, product_group ORDER BY confirmed DESC, queued DESC, term
"""

# Terms that cost analysts time for nothing over the last twelve months.
NEVER_YIELD = """
WITH hits AS (SELECT DISTINCT i.queue_id, i.settled, i.confirmed, lower(m.term) AS term, m.language, m.product_group
              FROM report_items i JOIN keyword_matches m ON m.listing_id = i.listing_id
              WHERE m.kind NOT IN ('innocent'))
SELECT term, language, product_group, count(*) AS queued, count(*) FILTER (WHERE settled) AS decided
FROM hits GROUP BY term, language, product_group
HAVING count(*) FILTER (WHERE confirmed) = 0 AND count(*) FILTER (WHERE settled) >= %(min_decided)s
ORDER BY decided DESC, term
"""

# Seller networks (wildwatch/networks) with confirmed offers on more than one platform, in more than one country
# or month, this month among them. Linked-by lists the kinds of key only: contacts never go into a report.
NETWORKS = """
WITH offers AS (SELECT m.network_id, ri.listing_id, ri.platform, ri.country, ri.period
                FROM report_items ri JOIN network_members m ON m.listing_id = ri.listing_id WHERE ri.confirmed)
SELECT o.network_id AS network, count(DISTINCT o.listing_id) AS confirmed_offers,
       count(DISTINCT o.platform) AS platforms, count(DISTINCT o.country) AS countries,
       count(DISTINCT o.period) AS months,
       string_agg(DISTINCT o.platform, ', ') AS platform_list, string_agg(DISTINCT o.country, ', ') AS country_list,
       string_agg(DISTINCT to_char(o.period, 'YYYY-MM'), ', ') AS month_list,
       (SELECT array_agg(DISTINCT split_part(k.link_key, ':', 1)) FROM network_links k
        WHERE k.network_id = o.network_id) AS linked_by
FROM offers o GROUP BY o.network_id
HAVING (count(DISTINCT o.platform) > 1 OR count(DISTINCT o.country) > 1 OR count(DISTINCT o.period) > 1)
   AND bool_or(o.period = %(month)s)
ORDER BY platforms DESC, countries DESC, months DESC, confirmed_offers DESC, network
"""

CRAWL_HEALTH = """
SELECT s.name AS site, s.country, r.run_key AS run, to_char(sc.started_at, 'YYYY-MM-DD HH24:MI') AS started,
       sc.status, coalesce(sc.reason, '') AS reason, sc.errors AS failed_requests,
       (SELECT string_agg(format('%%s x%%s', e.key, e.value), '; ' ORDER BY e.value::int DESC, e.key)
        FROM jsonb_each_text(coalesce(sc.stats->'error_reasons', '{}'::jsonb)) e) AS why_failed,
       sc.pages_fetched AS pages,
       sc.listings_seen AS items, (sc.stats->'coverage'->>'title')::float AS title_coverage,
       (sc.stats->'coverage'->>'price')::float AS price_coverage,
       (sc.stats->'coverage'->>'seller')::float AS seller_coverage,
       (sc.status = 'succeeded') AS healthy,
       (SELECT count(*) FROM jsonb_each_text(coalesce(sc.stats->'query_results', '{}'::jsonb)) q) AS search_terms,
       (SELECT count(*) FROM jsonb_each_text(coalesce(sc.stats->'query_results', '{}'::jsonb)) q
        WHERE q.value::int = 0) AS terms_without_results,
       h.requests, h.details_skipped, sc.candidates_queued AS candidates, h.confirmed,
       round(1000.0 * sc.candidates_queued / nullif(h.requests, 0), 1) AS candidates_per_1k_requests,
       round(1000.0 * h.confirmed / nullif(h.requests, 0), 1) AS confirmed_per_1k_requests
FROM site_crawls sc JOIN crawl_runs r ON r.id = sc.run_id JOIN sites s ON s.id = sc.site_id
-- The harvest rate (as focused crawlers report it): what a site's crawl yields for the requests it costs.
CROSS JOIN LATERAL (
    SELECT (sc.stats->>'requests')::int AS requests, (sc.stats->>'details_skipped')::int AS details_skipped,
           (SELECT count(*) FROM sightings si JOIN listings l ON l.id = si.listing_id
                   JOIN review_queue q ON q.listing_id = si.listing_id
            WHERE si.run_id = sc.run_id AND l.site_id = sc.site_id AND si.queued AND q.status = 'decided'
              AND (SELECT d.decision FROM review_decisions d WHERE d.queue_id = q.id
                   ORDER BY d.id DESC LIMIT 1) = 'confirmed') AS confirmed) h
WHERE r.period = %(month)s AND (%(country)s::text IS NULL OR s.country = %(country)s)
ORDER BY sc.started_at DESC, s.name
"""

# The month's review status, for the report's first line: it may be written before analysts are done.
REVIEW_STATUS = """
SELECT count(*) FILTER (WHERE NOT audit) AS candidates, count(*) FILTER (WHERE NOT audit AND settled) AS decided,
       count(*) FILTER (WHERE confirmed) AS confirmed,
       count(DISTINCT platform) FILTER (WHERE confirmed) AS platforms,
       count(DISTINCT country) FILTER (WHERE confirmed) AS countries,
       (SELECT min(period) FROM crawl_runs r WHERE r.status <> 'running') AS first_surveyed
FROM report_items WHERE period = %(month)s
"""


# Confirmed offers of the month and the month before with the asking price seen in that month's survey (the
# listing's latest price when that survey recorded none), for the prices table (report/prices.py).
PRICES = """
SELECT ri.period, ri.product_group, ri.country, coalesce(si.price, l.price) AS price,
       CASE WHEN si.price IS NOT NULL THEN si.currency ELSE l.currency END AS currency, l.title, l.description
FROM report_items ri JOIN listings l ON l.id = ri.listing_id
LEFT JOIN LATERAL (SELECT s.price, s.currency FROM sightings s JOIN crawl_runs r ON r.id = s.run_id
                   WHERE s.listing_id = ri.listing_id AND r.period = ri.period AND s.price IS NOT NULL
                   ORDER BY s.seen_at DESC LIMIT 1) si ON true
WHERE ri.confirmed AND ri.period IN (%(month)s, %(prev)s)
"""


def params(month: dt.date, country: str | None) -> dict:
    return {"month": month, "prev": add_months(month, -1), "next": add_months(month, 1),
            "start": add_months(month, -11), "country": country, "min_decided": 3}


def fetch(conn, sql: str, p: dict) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute(sql, p)
        return [dict(r) for r in cur.fetchall()]


def prepare(conn, p: dict) -> None:
    with conn.cursor() as cur:
        cur.execute(ITEMS, p)
        cur.execute("CREATE INDEX ON report_items (period)")
        cur.execute("CREATE INDEX ON report_items (listing_id)")
        cur.execute("ANALYZE report_items")

# What analysts named: confirmed offers by the species they recorded (lower-cased, so spellings of one name
# that differ only in case count together).
SPECIES = """
SELECT coalesce(lower(species), 'not recorded') AS species, product_group, count(*) AS confirmed
FROM report_items WHERE period = %(month)s AND confirmed
GROUP BY 1, 2 ORDER BY (coalesce(lower(species), 'not recorded') = 'not recorded'), confirmed DESC, 1
"""
