"""Keep evidence for every listing queued as a candidate: a WARC of the page the listing came from and,
for browser pages (or sites that ask for it), a screenshot; and for the unqueued listings the run's blind audit
sample may draw (wildwatch/ranker/audit.py), so that a sampled item looks like any other. Other listings keep
none, so storage grows with candidates, not with pages. Missing evidence is recorded with its reason; the listing stays queued."""
from __future__ import annotations

import scrapy

from pipelines.dbwriter import DatabaseWriter
from wildwatch import config
from wildwatch.evidence import capture
from wildwatch.evidence.screenshot import Renderer
from wildwatch.evidence.store import open_store
from wildwatch.evidence.warc import PageCapture


class EvidencePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "evidence")
        settings = config.load()
        self.enabled = settings.evidence_enabled
        self.max_bytes = settings.evidence_max_bytes
        self.store = open_store(settings.evidence_store)
        self.renderer = Renderer(timeout_s=settings.screenshot_timeout_s)
        self.version = capture.crawler_version()
        self.threshold = settings.queue_threshold

    async def close_spider(self):
        await self.renderer.close()
        await super().close_spider()

    def _wanted_screenshot(self, page) -> bool:
        return page.browser or self.crawler.spider.site.screenshot_static

    async def process_item(self, item):
        page = item.pop("_page", None)
        reused = item.get("_detail_reused")
        wanted = item.get("queued") or item.get("audit_eligible")
        if self.enabled and page is None and reused and not reused["in_queue"] and wanted:
            # Re-read without a fetch (incremental survey) and a candidate for the first time (a new keyword,
            # a new ranker): its page was never kept, so it is fetched now.
            page = await self._fetch_page(item)
            if page is None:
                return item
        # A listing spooled while the database was away is queued when the spool is replayed: its evidence
        # is captured now, while the page is at hand, and spooled with it.
        will_queue = item.get("spooled") and item.get("score", 0) >= self.threshold
        if not self.enabled or page is None or not (wanted or will_queue):
            return item
        shots = [await capture.screenshot(page, self.store, self.renderer, self.max_bytes, self.version)
                 ] if self._wanted_screenshot(page) else []
        item["_capture"] = (page, shots)
        if will_queue:
            self.spool(item, "evidence of a spooled candidate", count=False)
        else:
            await self.write(item, self._record, self._record_many)
        stats = self.crawler.stats
        for row in item["evidence"]:
            if row["missing_reason"]:
                stats.inc_value(f"wildwatch/evidence/missing/{row['kind']}")
            else:
                stats.inc_value(f"wildwatch/evidence/{row['kind']}")
                stats.inc_value("wildwatch/evidence/bytes", row["size_bytes"])
        return item

    async def _fetch_page(self, item) -> PageCapture | None:
        spider = self.crawler.spider
        detail = spider.site.detail
        meta = spider.page_meta(detail.wait_for, detail.needs_browser) if detail else {}
        self.crawler.stats.inc_value("wildwatch/pages/evidence_refetch")
        try:
            response = await self.crawler.engine.download_async(scrapy.Request(item["url"], dont_filter=True,
                                                                               meta=meta))
        except Exception as exc:  # noqa: BLE001 - timeouts, refusals, robots.txt: recorded, the listing stays
            item["evidence"] = [capture.missing_row("warc", item["url"], self.version,
                                                    f"page not fetched: {exc or type(exc).__name__}"[:300])]
            await self.write(item, self._record)
            return None
        return PageCapture.from_response(response)

    def _archive(self, item) -> None:
        """The page's WARC into the store, once (a batch written again after a lost connection reuses it)."""
        if "evidence" not in item:
            page, shots = item["_capture"]
            item["evidence"] = [capture.archive(page, self.store, self.max_bytes, self.version,
                                                {"WARC-Crawl-Run": str(self.crawler.spider.run_id)}), *shots]

    def _record(self, conn, item):
        self._record_many(conn, [item])

    def _record_many(self, conn, items):
        # In the writer's thread: building the WARC and writing it out (with its fsync) overlap the crawl, and
        # the file is on disk before the row that names it is committed.
        for item in items:
            self._archive(item)
        capture.record_captures(conn, self.crawler.spider.run_id, [(item["listing_id"], item["evidence"])
                                                                   for item in items])

    def spool(self, item, reason=None, count=True) -> None:
        if "_capture" in item:
            self._archive(item)  # the database is away: the page is kept now and its rows go to the spool
        super().spool(item, reason, count)
