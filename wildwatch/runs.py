"""Crawl runs and per-site crawl records: created by the DAG (or a manual crawl), closed by the crawl."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from psycopg2.extras import Json, execute_values

from wildwatch import lifecycle
from wildwatch.keywords import KeywordBase
from wildwatch.sites import Site


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def ensure_run(conn, run_key: str, kind: str, period: dt.date, params: dict | None = None) -> int:
    """Idempotent: the same Airflow run (retried, cleared) always maps to the same row."""
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO crawl_runs (run_key, kind, period, params) VALUES (%s, %s, %s, %s)
                       ON CONFLICT (run_key) DO UPDATE SET params = EXCLUDED.params
                       RETURNING id""", (run_key, kind, month_start(period), Json(params or {})))
        return cur.fetchone()[0]


def manual_run(conn, period: dt.date | None = None) -> int:
    return ensure_run(conn, f"manual-{uuid.uuid4().hex[:12]}", "manual", period or dt.date.today())


def hand_run_done(conn, run_id: int) -> bool:
    """A run started by hand (kind manual) none of whose site crawls is still running."""
    with conn.cursor() as cur:
        cur.execute("""SELECT r.kind = 'manual'
                              AND NOT EXISTS (SELECT 1 FROM site_crawls sc WHERE sc.run_id = r.id
                                              AND sc.finished_at IS NULL)
                       FROM crawl_runs r WHERE r.id = %s""", (run_id,))
        row = cur.fetchone()
    return bool(row and row[0])


def upsert_site(conn, site: Site) -> int:
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO sites (name, country, languages, base_url, needs_browser, enabled)
                       VALUES (%s, %s, %s, %s, %s, %s)
                       ON CONFLICT (name) DO UPDATE SET country = EXCLUDED.country,
                           languages = EXCLUDED.languages, base_url = EXCLUDED.base_url,
                           needs_browser = EXCLUDED.needs_browser, enabled = EXCLUDED.enabled,
                           updated_at = now()
                       RETURNING id""",
                    (site.name, site.country, list(site.languages), site.base_url, site.needs_browser,
                     site.enabled))
        return cur.fetchone()[0]


def sync_keywords(conn, kb: KeywordBase) -> dict[tuple, int]:
    """Copy the keyword files into the table; returns (term, language, group, kind) -> id."""
    rows = [(t.term, t.language, t.group, t.kind, t.species, t.cites, t.source) for t in kb.terms]
    with conn.cursor() as cur:
        execute_values(cur, """
            INSERT INTO keywords (term, language, product_group, kind, species, cites_appendix, source)
            VALUES %s
            ON CONFLICT (term, language, product_group, kind) DO UPDATE SET
                species = EXCLUDED.species, cites_appendix = EXCLUDED.cites_appendix,
                source = EXCLUDED.source, updated_at = now()
            WHERE (keywords.species, keywords.cites_appendix, keywords.source)
                  IS DISTINCT FROM (EXCLUDED.species, EXCLUDED.cites_appendix, EXCLUDED.source)""",
                       rows, page_size=2000)
        cur.execute("SELECT term, language, product_group, kind, id FROM keywords")
        return {row[:4]: row[4] for row in cur.fetchall()}


def begin_site_crawl(conn, run_id: int, site_id: int) -> None:
    """The site's record is running while any of its shards is; a re-run after it finished starts it afresh
    (its sightings stay unique)."""
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO site_crawls (run_id, site_id) VALUES (%s, %s)
                       ON CONFLICT (run_id, site_id) DO UPDATE SET status = 'running', reason = NULL,
                           started_at = CASE WHEN site_crawls.finished_at IS NULL THEN site_crawls.started_at
                                             ELSE now() END,
                           finished_at = NULL""", (run_id, site_id))


def begin_shard(conn, run_id: int, site_id: int, shard: int, shards: int, worker: str | None) -> None:
    """Idempotent: a retried or cleared shard restarts its own row; rows of another split of the same site
    (the terms or the shard size changed since) no longer count."""
    begin_site_crawl(conn, run_id, site_id)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM shard_crawls WHERE run_id = %s AND site_id = %s AND shards <> %s",
                    (run_id, site_id, shards))
        cur.execute("""INSERT INTO shard_crawls (run_id, site_id, shard, shards, worker) VALUES (%s, %s, %s, %s, %s)
                       ON CONFLICT (run_id, site_id, shard) DO UPDATE SET status = 'running', reason = NULL,
                           worker = EXCLUDED.worker, stats = '{}'::jsonb, started_at = now(), finished_at = NULL""",
                    (run_id, site_id, shard, shards, worker))


def finish_shard(conn, run_id: int, site_id: int, shard: int, status: str, reason: str | None,
                 stats: dict) -> None:
    with conn.cursor() as cur:
        cur.execute("""UPDATE shard_crawls SET status = %s, reason = %s, stats = %s, finished_at = now()
                       WHERE run_id = %s AND site_id = %s AND shard = %s""",
                    (status, reason, _json(stats), run_id, site_id, shard))


def finished_shards(conn, run_id: int, site_id: int, shards: int) -> list[dict] | None:
    """Every shard of the site's crawl once all have finished, else None. Locks the site's record, so of two
    shards finishing at the same moment exactly one sees the other's result and closes the site."""
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM site_crawls WHERE run_id = %s AND site_id = %s FOR UPDATE", (run_id, site_id))
        cur.execute("""SELECT shard, status, reason, worker, stats FROM shard_crawls
                       WHERE run_id = %s AND site_id = %s AND shards = %s AND finished_at IS NOT NULL
                       ORDER BY shard""", (run_id, site_id, shards))
        rows = [dict(zip(("shard", "status", "reason", "worker", "stats"), row, strict=True))
                for row in cur.fetchall()]
    return rows if len(rows) == shards else None


def _json(stats: dict) -> Json:
    return Json(json.loads(json.dumps(stats, default=str)))


def finish_site_crawl(conn, run_id: int, site_id: int, status: str, reason: str | None, stats: dict) -> None:
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*), count(*) FILTER (WHERE queued) FROM sightings s
                       JOIN listings l ON l.id = s.listing_id WHERE s.run_id = %s AND l.site_id = %s""",
                    (run_id, site_id))
        listings_seen, queued = cur.fetchone()
        cur.execute("""UPDATE site_crawls SET status = %s, reason = %s, finished_at = now(),
                           pages_fetched = %s, listings_seen = %s, candidates_queued = %s, errors = %s,
                           stats = %s
                       WHERE run_id = %s AND site_id = %s""",
                    (status, reason, stats.get("pages", 0), listings_seen, queued, stats.get("errors", 0),
                     _json(stats), run_id, site_id))


def known_listings(conn, run_id: int, urls: list[str], refetch_days: int) -> dict[str, dict]:
    """What is already stored of these canonical listing URLs: whether this run has a sighting of it, the
    search card and detail fields of its last detail fetch (when that is recent enough to trust), and whether
    it is a candidate without a page capture (whose page must be fetched again)."""
    with conn.cursor() as cur:
        # Per-listing subplans, never joins: the running run's sightings look like ~1 row to the planner,
        # which would then scan all of them (100,000s by the end of a big run) for every search page.
        cur.execute("""SELECT l.url,
                              EXISTS (SELECT 1 FROM sightings s WHERE s.listing_id = l.id AND s.run_id = %(run)s),
                              l.card_hash,
                              CASE WHEN l.detail_fetched_at > now() - make_interval(days => %(days)s)
                                   THEN l.detail_fields END,
                              EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = l.id),
                              EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = l.id)
                                AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.listing_id = l.id
                                                AND e.purpose = 'capture' AND e.sha256 IS NOT NULL),
                              EXISTS (SELECT 1 FROM listing_photos p WHERE p.listing_id = l.id)
                       FROM listings l WHERE l.url = ANY(%(urls)s)""",
                    {"run": run_id, "urls": list(urls), "days": refetch_days})
        keys = ("seen_in_run", "card_hash", "detail_fields", "in_queue", "candidate_without_capture", "has_photos")
        return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in cur.fetchall()}


def record_failed_page(conn, run_id: int, url: str, shard: int, reason: str, site_id: int | None = None) -> None:
    """A listing page that failed after the retries: the run's other shards will not ask for it again."""
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO run_failed_pages (run_id, url, shard, reason, site_id) VALUES (%s, %s, %s, %s, %s)
                       ON CONFLICT (run_id, url) DO NOTHING""", (run_id, url, shard, reason, site_id))


def claim_pages(conn, run_id: int, urls: list[str], shard: int) -> set[str]:
    """Claims these listing pages for this shard of the run; returns those another shard claimed first (it
    fetches them)."""
    if not urls:
        return set()
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO run_page_claims (run_id, url, shard) SELECT %s, u, %s FROM unnest(%s::text[]) u
                       ON CONFLICT (run_id, url) DO NOTHING""", (run_id, shard, list(urls)))
        cur.execute("SELECT url FROM run_page_claims WHERE run_id = %s AND url = ANY(%s) AND shard <> %s",
                    (run_id, list(urls), shard))
        return {row[0] for row in cur.fetchall()}


def failed_in_run(conn, run_id: int, urls: list[str], shard: int) -> dict[str, str]:
    """Which of these listing URLs another shard of the run already failed on, and why. A shard run again
    (a cleared task) tries its own failures again: the site may have recovered."""
    with conn.cursor() as cur:
        cur.execute("""SELECT url, reason FROM run_failed_pages
                       WHERE run_id = %s AND url = ANY(%s) AND shard <> %s""", (run_id, list(urls), shard))
        return dict(cur.fetchall())


def previous_site_stats(conn, site_id: int, run_id: int, scope: str = "all") -> dict | None:
    """Stats of the same site's last successful crawl in an earlier run that searched the same terms (scope:
    "all", or the groups or queries a restricted crawl was limited to): a crawl for three terms is not
    compared with one for all of them."""
    with conn.cursor() as cur:
        cur.execute("""SELECT stats FROM site_crawls WHERE site_id = %s AND run_id < %s AND status = 'succeeded'
                         AND coalesce(stats->>'scope', 'all') = %s
                       ORDER BY run_id DESC LIMIT 1""", (site_id, run_id, scope))
        row = cur.fetchone()
    return row[0] if row else None


def site_crawl(conn, run_id: int, site_name: str) -> dict | None:
    with conn.cursor() as cur:
        cur.execute("""SELECT sc.status, sc.reason, sc.pages_fetched, sc.listings_seen, sc.candidates_queued,
                              sc.errors, sc.stats->>'finish_reason', sc.finished_at IS NOT NULL
                       FROM site_crawls sc JOIN sites s ON s.id = sc.site_id
                       WHERE sc.run_id = %s AND s.name = %s""", (run_id, site_name))
        row = cur.fetchone()
    if row is None:
        return None
    keys = ("status", "reason", "pages_fetched", "listings_seen", "candidates_queued", "errors", "finish_reason",
            "finished")
    return dict(zip(keys, row, strict=True))


def shard_crawl(conn, run_id: int, site_name: str, shard: int) -> dict | None:
    with conn.cursor() as cur:
        cur.execute("""SELECT c.status, c.reason, (c.stats->>'pages')::int, (c.stats->>'items')::int,
                              (c.stats->>'queued')::int, c.stats->>'finish_reason', c.worker
                       FROM shard_crawls c JOIN sites s ON s.id = c.site_id
                       WHERE c.run_id = %s AND s.name = %s AND c.shard = %s""", (run_id, site_name, shard))
        row = cur.fetchone()
    if row is None:
        return None
    keys = ("status", "reason", "pages_fetched", "items", "queued", "finish_reason", "worker")
    return dict(zip(keys, row, strict=True))


def summarize_run(conn, run_id: int, unplanned: list[str] = ()) -> dict:
    """Per-site counts onto the run, and the run's status: partial when some site failed. Runs after every
    crawl task has ended, so a site still 'running' lost a shard for good (its task ran out of tries)."""
    with conn.cursor() as cur:
        cur.execute("""UPDATE site_crawls sc SET status = 'failed', finished_at = now(),
                           reason = (SELECT 'only ' || count(*) FILTER (WHERE c.finished_at IS NOT NULL) || ' of '
                                            || coalesce(max(c.shards)::text, '?') || ' keyword shards finished'
                                     FROM shard_crawls c WHERE c.run_id = sc.run_id AND c.site_id = sc.site_id)
                       WHERE sc.run_id = %s AND sc.status = 'running'""", (run_id,))
        cur.execute("""SELECT s.name, s.country, sc.status, sc.reason, sc.pages_fetched, sc.listings_seen,
                              sc.candidates_queued, sc.errors
                       FROM site_crawls sc JOIN sites s ON s.id = sc.site_id
                       WHERE sc.run_id = %s ORDER BY s.name""", (run_id,))
        keys = ("site", "country", "status", "reason", "pages_fetched", "listings_seen", "candidates_queued",
                "errors")
        sites = [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
        sites += [{"site": name, "country": None, "status": "failed", "pages_fetched": 0, "listings_seen": 0,
                   "candidates_queued": 0, "errors": 0,
                   "reason": "its plan task failed (a broken site or keyword file?): see that task's log"}
                  for name in sorted(unplanned)]
        failed = [s for s in sites if s["status"] != "succeeded"]
        status = "failed" if sites and len(failed) == len(sites) else "partial" if failed else "succeeded"
        if not sites:
            status = "failed"
        summary = {"sites": sites,
                   "totals": {k: sum(s[k] for s in sites)
                              for k in ("pages_fetched", "listings_seen", "candidates_queued", "errors")},
                   "listings": lifecycle.run_counts(conn, run_id)}
        cur.execute("UPDATE crawl_runs SET status = %s, finished_at = now(), summary = %s WHERE id = %s",
                    (status, Json(summary), run_id))
    summary["status"] = status
    return summary
