"""What the filter misses: a blind random sample of the listings a monthly run stored but did not queue.

Sampled items enter the review queue like any other (reason 'audit', which no analyst view shows; their
priority is drawn from the run's own queue so their place in it gives nothing away). Their decisions give the
share of offers among unqueued listings, with a 95% Wilson interval, scaled to the run's unqueued population.

So that a sampled item looks like a queued one (a WARC, a screenshot, photos, as captured when the crawl saw
it), the crawl keeps evidence for the unqueued listings that *may* be drawn: those whose hash of (run,
address) falls below ELIGIBLE_MARGIN x the audit share. The draw takes the lowest hashes: a uniform random
sample of the unqueued population still (the hash knows nothing of the listing), mostly among those the crawl
kept evidence for; the few drawn beyond them (small populations) are captured when drawn
(wildwatch/evidence/late.py). The cost: evidence for about ELIGIBLE_MARGIN times as many unqueued listings as
are drawn. The address's host is left out of the hash, so a site moved to a mirror draws the same listings.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re

from wildwatch import config
from wildwatch.db import dict_cursor
from wildwatch.ranker.metrics import wilson

log = logging.getLogger(__name__)

ELIGIBLE_MARGIN = 2.0

UNQUEUED = """
    SELECT si.listing_id FROM sightings si
    WHERE si.run_id = %(run)s AND NOT EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = si.listing_id)
"""
# The same number as draw_hash() below: the first 32 bits of md5("<run id>:<address without scheme and
# host>"), as a share of 2^32.
DRAW_HASH = ("(('x' || substr(md5(%(run)s::text || ':' || "
             "regexp_replace(l.url, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*', '')), 1, 8))::bit(32)::bigint / 4294967296.0)")
_HOST = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*")


def draw_hash(run_id: int, url: str) -> float:
    return int(hashlib.md5(f"{run_id}:{_HOST.sub('', url)}".encode()).hexdigest()[:8], 16) / 2 ** 32


def eligible(run_id: int | None, url: str, share: float) -> bool:
    """Whether the crawl keeps evidence for this unqueued listing because the run's audit may draw it."""
    return run_id is not None and share > 0 and draw_hash(run_id, url) < min(1.0, ELIGIBLE_MARGIN * share)


def draw(conn, run_id: int, settings: config.Settings | None = None) -> dict:
    """Queue the run's audit sample; idempotent (the same run draws the same listings, recorded once)."""
    settings = settings or config.load()
    with conn.cursor() as cur:
        cur.execute("SELECT population, sampled FROM audit_samples WHERE run_id = %s", (run_id,))
        done = cur.fetchone()
        if done:
            return {"population": done[0], "sampled": done[1]}
        cur.execute(f"SELECT count(*) FROM ({UNQUEUED}) u", {"run": run_id})
        population = cur.fetchone()[0]
        size = min(settings.audit_cap, math.ceil(settings.audit_share * population)) if population else 0
        # md5 of (run, listing) orders the population at random, the same way every time this run asks.
        cur.execute(f"""
            WITH chosen AS (
                SELECT u.listing_id FROM ({UNQUEUED}) u JOIN listings l ON l.id = u.listing_id
                ORDER BY {DRAW_HASH}, l.id LIMIT %(size)s),
            priorities AS (SELECT array_agg(priority) AS p FROM review_queue WHERE run_id = %(run)s AND reason <> 'audit')
            INSERT INTO review_queue (listing_id, run_id, priority, reason)
            SELECT c.listing_id, %(run)s,
                   coalesce((SELECT p[1 + floor(random() * cardinality(p))::int] FROM priorities), 0), 'audit'
            FROM chosen c
            ON CONFLICT (listing_id) DO NOTHING""", {"run": run_id, "size": size})
        sampled = cur.rowcount
        cur.execute("INSERT INTO audit_samples (run_id, population, sampled) VALUES (%s, %s, %s)",
                    (run_id, population, sampled))
    log.info("audit sample of run %s: %d of %d unqueued listings queued blind", run_id, sampled, population)
    return {"population": population, "sampled": sampled}


def _row(measure: str, population: int | None, sampled: int, decided: int, confirmed: int) -> dict:
    share = confirmed / decided if decided else None
    low, high = wilson(confirmed, decided) if decided else (None, None)
    row = {"measure": measure, "population": population, "sampled": sampled, "decided": decided,
           "confirmed": confirmed, "share": share, "share_low": low, "share_high": high,
           "estimate": None, "estimate_low": None, "estimate_high": None}
    if population is not None and decided:
        if decided >= population:  # a census: every unqueued listing was decided, there is no sampling error
            row.update(share_low=share, share_high=share, estimate=confirmed, estimate_low=confirmed,
                       estimate_high=confirmed)
        else:  # never below what was seen, never above what the decided non-offers leave possible
            row.update(estimate=max(round(share * population), confirmed),
                       estimate_low=max(math.floor(low * population), confirmed),
                       estimate_high=min(math.ceil(high * population), population - (decided - confirmed)))
    return row


def estimate(conn, month_start, country: str | None = None) -> list[dict]:
    """Rows for the report: offers missed by the filter (all groups, then each group with a confirmed audit
    item), and the precision of the queue itself, each with its 95% interval. Month = the runs' period."""
    p = {"month": month_start, "country": country}
    with dict_cursor(conn) as cur:
        # The month's unqueued listings, each once however many of its runs saw it (a sum over the runs' samples
        # would count a listing seen by two runs twice).
        cur.execute("""
            SELECT count(DISTINCT si.listing_id) AS population FROM sightings si JOIN crawl_runs r ON r.id = si.run_id
            WHERE r.period = %(month)s AND EXISTS (SELECT 1 FROM audit_samples a WHERE a.run_id = r.id)
              AND NOT EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = si.listing_id AND q.reason <> 'audit')""",
                    p)
        population = int(cur.fetchone()["population"])
        cur.execute("""
            WITH items AS (
                SELECT q.id, q.reason, q.status, s.country,
                       (SELECT d.decision FROM review_decisions d WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1) AS decision,
                       (SELECT coalesce(nullif(d.product_group, ''), 'unknown') FROM review_decisions d
                        WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1) AS product_group
                FROM review_queue q JOIN crawl_runs r ON r.id = q.run_id
                JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
                WHERE r.period = %(month)s AND (%(country)s::text IS NULL OR s.country = %(country)s))
            SELECT reason = 'audit' AS audit, product_group, count(*) AS items,
                   count(*) FILTER (WHERE status = 'decided' AND decision <> 'unsure') AS decided,
                   count(*) FILTER (WHERE status = 'decided' AND decision = 'confirmed') AS confirmed
            FROM items GROUP BY 1, 2""", p)
        groups = cur.fetchall()
    audit = [g for g in groups if g["audit"]]
    queue = [g for g in groups if not g["audit"]]
    sampled = sum(g["items"] for g in audit)
    decided = sum(g["decided"] for g in audit)
    # population is counted over all countries; a country's report scales by its share of the sample
    if country and population:
        with conn.cursor() as cur:
            cur.execute("SELECT coalesce(sum(sampled), 0) FROM audit_samples a JOIN crawl_runs r ON r.id = a.run_id "
                        "WHERE r.period = %s", (month_start,))
            total_sampled = cur.fetchone()[0]
        population = round(population * sampled / total_sampled) if total_sampled else 0
    rows = [_row("offers missed by the filter (all groups)", population, sampled, decided,
                 sum(g["confirmed"] for g in audit))]
    for g in sorted(audit, key=lambda g: g["product_group"] or ""):
        if g["confirmed"] and g["product_group"] not in (None, "unknown"):
            rows.append(_row(f"offers missed by the filter: {g['product_group']}", population, sampled, decided,
                             g["confirmed"]))
    rows.append(_row("precision of the queue (confirmed / decided)", None, sum(g["items"] for g in queue),
                     sum(g["decided"] for g in queue), sum(g["confirmed"] for g in queue)))
    return rows
