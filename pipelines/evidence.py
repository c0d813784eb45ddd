"""Keep evidence for every listing queued as a candidate: a WARC of the page the listing came from and,
for browser pages (or sites that ask for it), a screenshot. Other listings keep none, so storage grows with
candidates, not with pages. Missing evidence is recorded with its reason; the listing stays queued."""
from __future__ import annotations

from pipelines.dbwriter import DatabaseWriter
from wildwatch import config
from wildwatch.evidence import capture
from wildwatch.evidence.screenshot import Renderer
from wildwatch.evidence.store import open_store


class EvidencePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "evidence")
        settings = config.load()
        self.enabled = settings.evidence_enabled
        self.max_bytes = settings.evidence_max_bytes
        self.store = open_store(settings.evidence_dir)
        self.renderer = Renderer(timeout_s=settings.screenshot_timeout_s)
        self.version = capture.crawler_version()
        self.threshold = settings.queue_threshold

    async def close_spider(self):
        await self.renderer.close()
        super().close_spider()

    def _wanted_screenshot(self, page) -> bool:
        return page.browser or self.crawler.spider.site.screenshot_static

    async def process_item(self, item):
        page = item.pop("_page", None)
        # A listing spooled while the database was away is queued when the spool is replayed: its evidence
        # is captured now, while the page is at hand, and spooled with it.
        will_queue = item.get("spooled") and item.get("score", 0) >= self.threshold
        if not self.enabled or page is None or not (item.get("queued") or will_queue):
            return item
        stats = self.crawler.stats
        spider = self.crawler.spider
        rows = [capture.archive(page, self.store, self.max_bytes, self.version,
                                {"WARC-Crawl-Run": str(spider.run_id)})]
        if self._wanted_screenshot(page):
            rows.append(await capture.screenshot(page, self.store, self.renderer, self.max_bytes, self.version))
        for row in rows:
            if row["missing_reason"]:
                stats.inc_value(f"wildwatch/evidence/missing/{row['kind']}")
            else:
                stats.inc_value(f"wildwatch/evidence/{row['kind']}")
                stats.inc_value("wildwatch/evidence/bytes", row["size_bytes"])
        item["evidence"] = rows
        if will_queue:
            self.spool(item, "evidence of a spooled candidate", count=False)
        else:
            self.write(item, self._record)
        return item

    def _record(self, conn, item):
        capture.record_capture(conn, item["listing_id"], self.crawler.spider.run_id, item["evidence"])
