"""Records each site crawl on its run: opened when the spider opens, closed with counts and a verdict.

A crawl is one shard of the site's search terms (the whole list when the site is not split). Each shard is
recorded on its own; the shard that finishes last sums them into the site's record, judges the site as a
whole (health against last run, terms that found nothing) and, for a clean monthly crawl, marks listings
no longer found as gone.
"""
from __future__ import annotations

import logging
import os
import socket

import psycopg2
from scrapy import signals
from scrapy.exceptions import NotConfigured

from spiders import health
from wildwatch import config, db, keywords, lifecycle, runs, shards

log = logging.getLogger(__name__)


def verdict(stats: dict, whole_site: bool = True) -> tuple[str, str | None]:
    """succeeded/failed and, when failed, why, in words an analyst can act on. A shard (not whole_site) is
    not failed for finding nothing: some of a site's terms never do."""
    pages = stats.get("pages", 0)
    errors = stats.get("errors", 0)
    reasons = []
    if stats.get("database_error"):
        reasons.append(stats["database_error"])
    if stats.get("spooled"):
        reasons.append(f"{stats['spooled']} listings spooled to {stats.get('spool_file')} (database lost)")
    if pages == 0 and errors:
        top = sorted((stats.get("error_reasons") or {}).items(), key=lambda kv: -kv[1])[:2]
        reasons.append(f"no page fetched: all {errors} requests failed ("
                       + "; ".join(f"{k} x{v}" for k, v in top) + ")")
    elif pages == 0 and stats.get("robots_forbidden"):
        reasons.append(f"no page fetched: robots.txt refused {stats['robots_forbidden']} requests (obeyed)")
    elif pages == 0:
        reasons.append("no page fetched (no search terms?)")
    empty = stats.get("layout_empty_pages", 0)
    if empty:
        reasons.append(f"selectors matched nothing on {empty} of {stats.get('search_pages', 0)} search pages "
                       "(layout changed?)")
    problems = stats.get("page_problems") or {}
    if problems:
        top = sorted(problems.items(), key=lambda kv: -kv[1])[:5]
        more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
        reasons.append("could not read: " + "; ".join(f"{k} (x{v})" for k, v in top) + more)
    found = stats.get("query_results") or {}
    if whole_site and pages and found and not any(found.values()) and not empty:
        reasons.append(f"found nothing for any of its {len(found)} search terms")
    if errors and pages and errors / (pages + errors) > 0.2:
        reasons.append(f"{errors} failed requests for {pages} pages fetched")
    reasons += stats.get("health_warnings") or []
    return ("failed", "; ".join(reasons)) if reasons else ("succeeded", None)


def crawl_scope(groups: list[str], queries: list[str]) -> str:
    """What a crawl searched: all the site's terms, or the groups or queries it was limited to."""
    if queries:
        return "queries=" + ",".join(sorted(queries))
    if groups:
        return "groups=" + ",".join(sorted(groups))
    return "all"


class UnknownRun(RuntimeError):
    """`-a run_id=N` names no survey run: nothing would be recorded under it (every write would fail)."""


class CrawlRunRecorder:
    def __init__(self, crawler):
        self.crawler = crawler
        self.url = db.database_url()
        spider = getattr(crawler, "spider", None)
        if spider is not None and getattr(spider, "shards", 1) > 1 and spider.run_id is None:
            # Each shard would open a run of its own and wait forever for the others.
            raise UnknownRun("a crawl split into shards needs the run they share: `wildwatch runs new` prints one; "
                             "pass -a run_id=N to every shard")
        self._prepare(getattr(spider, "run_id", None))
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        if crawler.spidercls.name != "marketplace":
            raise NotConfigured
        return cls(crawler)

    def _prepare(self, run_id: int | None) -> None:
        """Before any pipeline opens: the schema is migrated (a fresh database has no tables the pipelines
        read), and a given run id exists. A database that does not answer is left to the spool."""
        try:
            conn = db.connect(self.url)
        except db.DatabaseUnavailable:
            return
        try:
            db.migrate(conn)
            known = True
            if run_id is not None:
                with conn.cursor() as cur:
                    cur.execute("SELECT 1 FROM crawl_runs WHERE id = %s", (run_id,))
                    known = cur.fetchone() is not None
        except psycopg2.Error as exc:  # a database that drops connections: the pipelines' retries and spool cope
            log.warning("could not check the database before the crawl (%s)", exc)
            return
        finally:
            conn.close()
        if not known:
            raise UnknownRun(f"no survey run {run_id}: omit -a run_id for a run of this crawl's own, "
                             "or start one (`wildwatch runs list` shows them)")

    def spider_opened(self, spider):
        kb = keywords.load(config.load().keywords_dir)

        def register(conn):
            run_id = spider.run_id if spider.run_id is not None else runs.manual_run(conn)
            site_id = runs.upsert_site(conn, spider.site)
            keyword_ids = runs.sync_keywords(conn, kb)
            runs.begin_shard(conn, run_id, site_id, spider.shard, spider.shards,
                             os.environ.get("WILDWATCH_WORKER") or socket.gethostname())
            return run_id, site_id, keyword_ids

        # A crawl started by hand (no run id) gets a run of its own, which it closes when it ends.
        self.own_run = spider.run_id is None
        try:
            # The spider learns its ids only once they are committed.
            spider.run_id, spider.site_id, spider.keyword_ids = db.run_in_transaction(self.url, register)
        except db.DatabaseUnavailable as exc:
            log.error("%s: crawl of %s not started", exc, spider.site.name)
            self.crawler.stats.set_value("wildwatch/database_error", str(exc))
            spider.abort_reason = str(exc)  # start() then issues no request

    def collect(self) -> dict:
        s = self.crawler.stats
        search = s.get_value("wildwatch/pages/search", 0)
        detail = s.get_value("wildwatch/pages/detail", 0)
        return {
            "pages": search + detail, "search_pages": search, "detail_pages": detail,
            # Incremental surveys: listing pages not fetched because their search card was unchanged.
            "details_skipped": s.get_value("wildwatch/details_skipped", 0),
            # Every request sent (pages, robots.txt, photos, retries): the budget a site's politeness limits.
            "requests": s.get_value("downloader/request_count", 0),
            "errors": s.get_value("wildwatch/request_errors", 0),
            # Listing pages another shard of the run already failed on: not asked for again.
            "skipped_failed": s.get_value("wildwatch/skipped_failed_in_run", 0),
            # Listing pages a shard running at the same time claimed first (and fetched).
            "skipped_claimed": s.get_value("wildwatch/skipped_claimed_in_run", 0),
            "error_reasons": s.get_value("wildwatch/error_reasons", {}),
            # Answers and results the site file could not read (not JSON, a path matching nothing, no address).
            "page_problems": s.get_value("wildwatch/page_problems", {}),
            "layout_empty_pages": s.get_value("wildwatch/layout/empty_search_pages", 0),
            "layout_empty_detail_pages": s.get_value("wildwatch/layout/empty_detail_pages", 0),
            "items": s.get_value("item_scraped_count", 0),
            "dropped": s.get_value("item_dropped_count", 0),
            "stored": s.get_value("wildwatch/stored", 0),
            "queued": s.get_value("wildwatch/queued", 0),
            "spooled": s.get_value("wildwatch/spooled", 0),
            "spool_file": s.get_value("wildwatch/spool_file"),
            "database_error": s.get_value("wildwatch/database_error"),
            "robots_forbidden": s.get_value("robotstxt/forbidden", 0),
            "field_counts": {f: s.get_value(f"wildwatch/field/{f}", 0) for f in health.COVERAGE_FIELDS},
            "query_results": {k.split("/", 2)[2]: v for k, v in s.get_stats().items()
                              if k.startswith("wildwatch/query_results/")},
        }

    def spider_closed(self, spider, reason):
        stats = self.collect()
        stats["finish_reason"] = reason
        if spider.site_id is None:
            return  # never opened: the database error is already logged
        shard_status, shard_why = verdict(stats, whole_site=False)
        whole = {}

        def close(conn):
            runs.finish_shard(conn, spider.run_id, spider.site_id, spider.shard, shard_status, shard_why, stats)
            done = runs.finished_shards(conn, spider.run_id, spider.site_id, spider.shards)
            if done is not None:
                whole.update(self.close_site(conn, spider, done))
                # A run of this crawl's own, or one made by hand for shards (`wildwatch runs new`) once its
                # last site crawl ends; a DAG's run is closed by its summarize task.
                if getattr(self, "own_run", False) or runs.hand_run_done(conn, spider.run_id):
                    runs.summarize_run(conn, spider.run_id)

        try:
            db.run_in_transaction(self.url, close)
        except db.DatabaseUnavailable as exc:
            log.error("%s: could not record the end of the %s crawl (%s)", exc, spider.site.name, shard_status)
            return
        label = spider.site.name + (f" shard {spider.shard + 1}/{spider.shards}" if spider.shards > 1 else "")
        # One line, and the same verdict the run records: for an unsplit crawl that is the site's.
        status, why = (whole["status"], whole["reason"]) if whole and spider.shards == 1 else (shard_status, shard_why)
        log.info("%s: %s, %d pages, %d errors%s", label, status, stats["pages"], stats["errors"],
                 f" ({why})" if why else "")
        if whole and spider.shards > 1:
            log.info("site %s, all %d shards: %s%s", spider.site.name, spider.shards, whole["status"],
                     f" ({whole['reason']})" if whole["reason"] else "")

    def close_site(self, conn, spider, done: list[dict]) -> dict:
        """The site's record from all its shards: counts summed, judged as one crawl."""
        total = shards.aggregate([d["stats"] for d in done])
        total["coverage"] = health.coverage(total["items"], total["field_counts"])
        total["workers"] = sorted({d["worker"] for d in done if d["worker"]})
        total["scope"] = crawl_scope(spider.groups, spider.queries)
        # Listings are counted as the run saw them (its sightings), not as this crawl's items: a shard run
        # again after its worker died skips what its first attempt already stored, and is not a site in decline.
        with conn.cursor() as cur:
            cur.execute("""SELECT count(*) FROM sightings s JOIN listings l ON l.id = s.listing_id
                           WHERE s.run_id = %s AND l.site_id = %s""", (spider.run_id, spider.site_id))
            seen = cur.fetchone()[0]
        total["health_warnings"] = health.compare(
            {**total, "items": max(total["items"], seen)},
            runs.previous_site_stats(conn, spider.site_id, spider.run_id, total["scope"]))
        status, why = verdict(total)
        failed = [f"shard {d['shard'] + 1}/{len(done)}: {d['reason']}" for d in done
                  if d["status"] != "succeeded" and len(done) > 1]
        if failed:
            status, why = "failed", "; ".join(([why] if why else []) + failed)
        with conn.cursor() as cur:
            cur.execute("SELECT kind FROM crawl_runs WHERE id = %s", (spider.run_id,))
            kind = cur.fetchone()[0]
        blocker = lifecycle.lifecycle_blocker(kind, status, total, bool(spider.groups or spider.queries))
        total["lifecycle"] = ({"gone": lifecycle.mark_not_found(conn, spider.run_id, spider.site_id)}
                              if blocker is None else {"skipped": blocker})
        runs.finish_site_crawl(conn, spider.run_id, spider.site_id, status, why, total)
        return {"status": status, "reason": why}
