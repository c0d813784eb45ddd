"""Downloader middlewares of our own."""
from __future__ import annotations

import asyncio
import email.utils
import logging
import time

from scrapy.exceptions import IgnoreRequest

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
