"""Downloader and spider middlewares of our own."""
from __future__ import annotations

import asyncio
import email.utils
import logging
import time

import psycopg2
from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest

from spiders.signals import listing_page_failed
from wildwatch import config, db, runs
from wildwatch.incremental import detail_item
from wildwatch.incremental import reusable as incremental_reuse

log = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class RetryAfterMiddleware:
    """A 429 or 503 with Retry-After: wait as long as the site asks (up to a cap), then try again.
    Scrapy's own retry ignores the header and retries at once, which is what gets crawlers blocked."""

    STATUSES = {429, 503}

    def __init__(self, crawler):
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX_WAIT", 600.0)
        self.max_times = crawler.settings.getint("RETRY_AFTER_MAX_TIMES", 3)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_response(self, request, response, spider=None):
        if response.status not in self.STATUSES:
            return response
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is None:
            return response  # no header: Scrapy's RetryMiddleware decides
        tries = request.meta.get("retry_after_times", 0)
        if wait > self.max_wait or tries >= self.max_times:
            self.crawler.stats.inc_value("wildwatch/retry_after/given_up")
            raise IgnoreRequest(f"HTTP {response.status}: the site asks to wait {wait:.0f} s (try {tries + 1})")
        self.crawler.stats.inc_value("wildwatch/retry_after/waits")
        log.info("HTTP %s on %s: waiting %.1f s as Retry-After asks", response.status, request.url, wait)
        await asyncio.sleep(wait)
        retry = request.replace(dont_filter=True)
        retry.meta["retry_after_times"] = tries + 1
        return retry


class KnownListingFilter:
    """Listing-page requests for listings already stored, decided with one query per search page:
    - stored by this survey run already (the same listing found by terms in two keyword shards: two processes,
      no shared duplicate filter): dropped, it is fetched once;
    - stored by an earlier run, with the same search card and a recent detail fetch (incremental surveys):
      replaced by the item that fetch made (wildwatch/incremental.py), re-matched and stored as seen;
    - failed in another shard of this run after its retries: dropped, a broken page is fetched once a run;
    - about to be fetched by another shard of this run running at the same time (claimed first): dropped.
    Without a database everything is fetched (the store will say why)."""

    RETRY_AFTER_S = 60.0  # after a failure, stop asking for a while: a hung server costs seconds per try

    def __init__(self, crawler):
        self.crawler = crawler
        self.conn = None
        self.retry_at = 0.0
        self.refetch_days = config.load().refetch_after_days
        # Listings re-read this crawl: another term's results page may list one again before it is stored
        # (Scrapy's duplicate filter sees requests, and these are items).
        self.reused: set[str] = set()
        crawler.signals.connect(self.close, signal=signals.spider_closed)
        crawler.signals.connect(self.page_failed, signal=listing_page_failed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _db(self, what: str, query, default):
        """query(conn) on our autocommit connection; when the database is away, `default` for a while."""
        if time.monotonic() < self.retry_at:
            return default
        try:
            if self.conn is None or self.conn.closed:
                self.conn = db.connect()
                self.conn.autocommit = True
            return query(self.conn)
        except (psycopg2.Error, db.DatabaseUnavailable) as exc:
            log.warning("cannot %s (%s)", what, exc)
            self.close()
            self.retry_at = time.monotonic() + self.RETRY_AFTER_S
            return default

    def _known(self, spider, urls: list[str]) -> tuple[dict[str, dict], dict[str, str]]:
        run_id = getattr(spider, "run_id", None)
        if run_id is None or not urls:
            return {}, {}
        return self._db("check which listings are already stored: fetching them all",
                        lambda conn: (runs.known_listings(conn, run_id, urls, self.refetch_days),
                                      runs.failed_in_run(conn, run_id, urls, spider.shard)), ({}, {}))

    def _claim(self, spider, urls: list[str]) -> set[str]:
        run_id = getattr(spider, "run_id", None)
        if run_id is None or not urls:
            return set()
        return self._db("claim listing pages for this shard: fetching them all",
                        lambda conn: runs.claim_pages(conn, run_id, urls, spider.shard), set())

    def page_failed(self, spider, url: str, reason: str):
        if getattr(spider, "run_id", None) is not None:
            self._db("record the failed page for the run's other shards",
                     lambda conn: runs.record_failed_page(conn, spider.run_id, url, spider.shard, reason,
                                                          getattr(spider, "site_id", None)), None)

    def _filter(self, spider, out: list):
        listing_urls = [r.meta["listing_url"] for r in out if isinstance(r, Request) and "listing_url" in r.meta]
        known, failed = self._known(spider, listing_urls)
        incremental = self.refetch_days > 0 and getattr(spider.site, "incremental", False)
        stats = self.crawler.stats
        # Pages this shard would fetch, claimed for the run first: a shard running at the same time that found
        # them too leaves them to whoever claimed first.
        cards = {r.meta["listing_url"]: r.cb_kwargs.get("seed", {}).get("_card") for r in out
                 if isinstance(r, Request) and "listing_url" in r.meta}
        fetch = [u for u, card in cards.items() if u not in failed and u not in self.reused and (
            known.get(u) is None or not (known[u]["seen_in_run"] or (incremental and incremental_reuse(known[u], card))))]
        taken = self._claim(spider, fetch)
        for entry in out:
            url = entry.meta.get("listing_url") if isinstance(entry, Request) else None
            stored = known.get(url)
            if url in failed:
                stats.inc_value("wildwatch/skipped_failed_in_run")
            elif url in taken:
                stats.inc_value("wildwatch/skipped_claimed_in_run")
            elif stored is None:
                yield entry
            elif stored["seen_in_run"] or url in self.reused:
                stats.inc_value("wildwatch/skipped_seen_in_run")
            elif incremental and incremental_reuse(stored, entry.cb_kwargs.get("seed", {}).get("_card")):
                self.reused.add(url)
                stats.inc_value("wildwatch/details_skipped")
                item = detail_item(entry.cb_kwargs["seed"], stored["detail_fields"])
                item["_detail_reused"] = {"in_queue": stored["in_queue"], "has_photos": stored["has_photos"]}
                yield item
            else:
                yield entry

    def process_spider_output(self, response, result, spider=None):
        yield from self._filter(spider or self.crawler.spider, list(result))

    async def process_spider_output_async(self, response, result, spider=None):
        out = [entry async for entry in result]
        for entry in self._filter(spider or self.crawler.spider, out):
            yield entry

    def close(self, *args, **kwargs):
        if self.conn is not None and not self.conn.closed:
            self.conn.close()
        self.conn = None
