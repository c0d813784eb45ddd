"""`scrapy crawl takedown`: revisit every referred listing not yet seen removed and record whether it is
still live, with a WARC of what the revisit saw. Politeness per platform comes from its site file."""
from __future__ import annotations

from urllib.parse import urlsplit

import scrapy

from pipelines.dbwriter import _first_line
from spiders.extract import select
from wildwatch import config, db
from wildwatch.evidence import capture
from wildwatch.evidence.store import open_store
from wildwatch.evidence.warc import PageCapture
from wildwatch.referrals import followup
from wildwatch.sites import SiteError
from wildwatch.sites import load as load_site


class TakedownSpider(scrapy.Spider):
    name = "takedown"
    # Nothing of the survey's crawl applies: no items, no run to record, no known-listing filter (it reads a
    # surveyed site's settings; this spider visits many sites' pages).
    custom_settings = {"ITEM_PIPELINES": {}, "EXTENSIONS": {}, "SPIDER_MIDDLEWARES": {}}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        settings = config.load()
        self.store = open_store(settings.evidence_store)
        self.max_bytes = settings.evidence_max_bytes
        self.version = capture.crawler_version()
        self.url = db.database_url()
        with db.transaction(self.url) as conn:
            self.targets = followup.due(conn)
        self.sites = {}
        for name in {t["site"] for t in self.targets}:
            try:
                self.sites[name] = load_site(name)
            except SiteError as exc:
                self.logger.warning("site %s: %s; its listings are checked without a removal marker", name, exc)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        slots = {}
        for site in spider.sites.values():
            slots[urlsplit(site.base_url).hostname] = {"delay": site.download_delay, "concurrency": site.concurrency}
        crawler.settings.set("DOWNLOAD_SLOTS", slots, priority="spider")
        if spider.sites and not any(site.autothrottle for site in spider.sites.values()):
            # As the survey's crawl of such a site does: AutoThrottle would raise each site's delay to the global
            # DOWNLOAD_DELAY after its first answer (robots.txt's, too).
            crawler.settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        return spider

    async def start(self):
        self.logger.info("%d referred listings to revisit", len(self.targets))
        for target in self.targets:
            site = self.sites.get(target["site"])
            # Every answer is an outcome here: a 404 or 410 is what we are looking for. A site whose file turns
            # AutoThrottle off keeps its own delay for its pages.
            meta = {"handle_httpstatus_all": True,
                    "autothrottle_dont_adjust_delay": bool(site and not site.autothrottle)}
            yield scrapy.Request(target["url"], callback=self.parse, errback=self.on_error, dont_filter=True,
                                 meta=meta, cb_kwargs={"target": target})

    def parse(self, response, target: dict):
        site = self.sites.get(target["site"])
        marker = bool(site and site.removed_marker and getattr(response, "text", None) is not None
                      and select(response, site.removed_marker))
        result, detail = followup.outcome(response.status, marker)
        row = capture.archive(PageCapture.from_response(response), self.store, self.max_bytes, self.version)
        self._record(target, result, response.status, detail, row)

    def on_error(self, failure):
        target = failure.request.cb_kwargs["target"]
        self._record(target, "error", None, f"{failure.type.__name__}: {failure.getErrorMessage()}"[:300], None)

    def _record(self, target, result, status, detail, row):
        self.crawler.stats.inc_value(f"wildwatch/takedown/{result}")
        try:
            db.run_in_transaction(self.url, lambda conn: followup.record(conn, target["listing_id"], result, status,
                                                                         detail, row))
        except db.DatabaseUnavailable as exc:
            self.logger.error("could not record the check of %s (%s): %s", target["url"], result, _first_line(exc))
            self.crawler.stats.inc_value("wildwatch/takedown/unrecorded")
