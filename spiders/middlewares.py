"""Downloader and spider middlewares of our own."""
from __future__ import annotations

import asyncio
import email.utils
import logging
import time

import psycopg2
from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest

from wildwatch import db, runs

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


class SeenInRunFilter:
    """Drops a request for a listing page this survey run has already stored: the same listing found by
    terms in two keyword shards (two processes, no shared duplicate filter) is fetched once, not twice.
    One query per search page; without a database it lets everything through (the store will say why)."""

    RETRY_AFTER_S = 60.0  # after a failure, stop asking for a while: a hung server costs seconds per try

    def __init__(self, crawler):
        self.crawler = crawler
        self.conn = None
        self.retry_at = 0.0
        crawler.signals.connect(self.close, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _seen(self, spider, urls: list[str]) -> set[str]:
        run_id = getattr(spider, "run_id", None)
        if run_id is None or not urls or time.monotonic() < self.retry_at:
            return set()
        try:
            if self.conn is None or self.conn.closed:
                self.conn = db.connect()
                self.conn.autocommit = True
            return runs.seen_in_run(self.conn, run_id, urls)
        except (psycopg2.Error, db.DatabaseUnavailable) as exc:
            log.warning("cannot check which listings this run already has (%s): fetching them all", exc)
            self.close()
            self.retry_at = time.monotonic() + self.RETRY_AFTER_S
            return set()

    def _filter(self, spider, out: list):
        listing_urls = [r.meta["listing_url"] for r in out if isinstance(r, Request) and "listing_url" in r.meta]
        seen = self._seen(spider, listing_urls)
        for entry in out:
            if isinstance(entry, Request) and entry.meta.get("listing_url") in seen:
                self.crawler.stats.inc_value("wildwatch/skipped_seen_in_run")
                continue
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
