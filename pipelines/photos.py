"""Fetch the photos of every listing queued as a candidate, through Scrapy (so robots.txt, the site's delay
and concurrency apply), and keep them as evidence: checked by their bytes (wildwatch/photos.py), stored by
SHA-256 with a thumbnail and a perceptual hash. A photo that fails is recorded with its reason; the listing
stays queued. Photos are fetched from the site's own host, or hosts its file declares (`image_hosts:`)."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest

from pipelines.dbwriter import DatabaseWriter
from wildwatch import config, photos
from wildwatch.evidence import photos as photo_records
from wildwatch.evidence.store import EvidenceStoreError, open_store


class PhotosPipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "photos")
        settings = config.load()
        self.enabled = settings.evidence_enabled and settings.photos_per_listing > 0
        self.cap = settings.photos_per_listing
        self.max_bytes = settings.photo_max_bytes
        self.store = open_store(settings.evidence_store)
        self.threshold = settings.queue_threshold

    async def process_item(self, item):
        # A candidate spooled while the database was away gets its photos now, while the site is at hand.
        will_queue = item.get("spooled") and item.get("score", 0) >= self.threshold
        wanted = item.get("queued") or item.get("audit_eligible") or will_queue
        if not self.enabled or not wanted or not item.get("image_urls"):
            return item
        if (item.get("_detail_reused") or {}).get("has_photos"):
            return item  # kept when its page was last fetched; the card (and so the listing) is unchanged
        rows = []
        for position, url in enumerate(item["image_urls"][:self.cap], start=1):
            row = await self._fetch(url)
            row.update(position=position, source_url=url)
            rows.append(row)
            key = "fetched" if row["sha256"] else "refused"
            self.crawler.stats.inc_value(f"wildwatch/photos/{key}")
        item["photos"] = rows
        if will_queue:
            self.spool(item, "photos of a spooled candidate", count=False)
        else:
            await self.write(item, self._record)
        return item

    def _record(self, conn, item):
        photo_records.record(conn, item["listing_id"], self.crawler.spider.run_id, item["photos"])

    async def _fetch(self, url: str) -> dict:
        site = self.crawler.spider.site
        if urlsplit(url).scheme not in ("http", "https"):
            return _missing("not an http(s) address")
        if not site.photo_host_allowed(url):
            return _missing(f"off-site host {urlsplit(url).hostname} (not in the site's image_hosts)")
        request = scrapy.Request(url, dont_filter=True, meta={"download_maxsize": self.max_bytes,
                                                              "allow_offsite": True, "wildwatch_photo": True})
        try:
            response = await self.crawler.engine.download_async(request)
        except IgnoreRequest as exc:
            return _missing(f"not fetched: {exc or 'forbidden by robots.txt'}"[:300])
        except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, size cancellations
            message = str(exc) or type(exc).__name__
            if "maxsize" in message.lower() or "cancelled" in message.lower():
                message = f"too big (over {self.max_bytes} bytes)"
            return _missing(f"fetch failed: {message}"[:300])
        if response.status != 200:
            return _missing(f"HTTP {response.status}")
        # Decoding, hashing and storing off the reactor's thread: pages keep flowing meanwhile.
        return await asyncio.to_thread(self._keep, response.body)

    def _keep(self, body: bytes) -> dict:
        try:
            photo = photos.check(body, self.max_bytes)
        except photos.NotAPhoto as exc:
            return _missing(str(exc)[:300])
        try:
            sha, thumb = self.store.put(photo.data), self.store.put(photo.thumbnail)
        except EvidenceStoreError as exc:
            return _missing(str(exc)[:300])
        return {"sha256": sha, "thumb_sha256": thumb, "media_type": photo.media_type, "width": photo.width,
                "height": photo.height, "size_bytes": len(photo.data), "phash": photo.phash, "missing_reason": None}


def _missing(reason: str) -> dict:
    return {"sha256": None, "thumb_sha256": None, "media_type": None, "width": None, "height": None,
            "size_bytes": None, "phash": None, "missing_reason": reason}
