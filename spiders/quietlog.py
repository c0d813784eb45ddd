"""A dead or failing site's crawl log reads as a few lines and one reason, not as dozens of retries and
Twisted tracebacks: what failed is counted on the run (`wildwatch runs show`), not written out per request."""
from __future__ import annotations

import logging

SAMPLES_PER_REASON = 3


class _NoTraceback(logging.Filter):
    """robots.txt that cannot be fetched is an ordinary condition (the crawl proceeds as Scrapy allows): one line."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return True


class _NoGiveUp(logging.Filter):
    """Scrapy's "Gave up retrying" says again what the spider's own failure line says, with its reason."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Gave up retrying")


def install() -> None:
    for name, kind in (("scrapy.downloadermiddlewares.robotstxt", _NoTraceback),
                       ("scrapy.downloadermiddlewares.retry", _NoGiveUp)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


class FailureLog:
    """The first few failed requests of each reason, then one line saying the rest are only counted."""

    def __init__(self, logger: logging.LoggerAdapter | logging.Logger):
        self.logger = logger
        self.seen: dict[str, int] = {}

    def failed(self, url: str, reason: str) -> None:
        n = self.seen[reason] = self.seen.get(reason, 0) + 1
        if n <= SAMPLES_PER_REASON:
            self.logger.warning("request failed: %s (%s)", url, reason)
        elif n == SAMPLES_PER_REASON + 1:
            self.logger.warning("more requests failed with %s: counted on the run, not logged", reason)
