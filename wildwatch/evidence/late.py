"""Evidence for listings chosen after their crawl: the blind audit sample's items the crawl kept nothing for
(wildwatch/ranker/audit.py). Each page is fetched as a crawl fetches it (robots.txt obeyed, our user agent,
the site's delay between requests), archived as a WARC with a screenshot for browser sites, and its photos
kept, so a sampled item looks like any queued one. What cannot be fetched is recorded with its reason."""
from __future__ import annotations

import asyncio
import logging
import time

from wildwatch import config
from wildwatch.evidence import capture, photos as photo_records
from wildwatch.evidence.store import open_store
from wildwatch.evidence.warc import PageCapture

log = logging.getLogger(__name__)

MISSING = """
SELECT q.listing_id, l.url, l.image_urls, s.needs_browser
FROM review_queue q JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
WHERE q.run_id = %s AND q.reason = 'audit'
  AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.listing_id = l.id AND e.purpose = 'capture')
ORDER BY q.listing_id
"""


def capture_missing(conn, run_id: int, settings: config.Settings | None = None, pause_s: float = 1.0) -> dict:
    """Fetch and keep evidence for the run's audit items that have none; returns counts."""
    from wildwatch import photos
    from wildwatch.hand import fetch

    settings = settings or config.load()
    store = open_store(settings.evidence_store)
    version = f"{capture.crawler_version()} audit"
    with conn.cursor() as cur:
        cur.execute(MISSING, (run_id,))
        rows = cur.fetchall()
    done = {"listings": len(rows), "pages": 0, "photos": 0, "missing": 0}
    for listing_id, url, image_urls, browser in rows:
        evidence = []
        try:
            if not fetch.allowed(url, settings.user_agent):
                raise OSError("robots.txt refuses the page")
            final, status, headers, body = fetch.get(url, settings.user_agent, settings.evidence_max_bytes)
            page = PageCapture(url=final, status=status, headers=headers, body=body)
            evidence.append(capture.archive(page, store, settings.evidence_max_bytes, version))
            if browser:
                evidence.append(asyncio.run(fetch.screenshot(page, settings)))
            done["pages"] += 1
        except (OSError, ValueError) as exc:
            evidence.append(capture.missing_row("warc", url, version, f"page not fetched when drawn: {exc}"[:300]))
            done["missing"] += 1
        capture.record_capture(conn, listing_id, run_id, [e for e in evidence if e])
        kept = []
        for position, source in enumerate((image_urls or [])[:settings.photos_per_listing], start=1):
            row = {"position": position, "source_url": source, "sha256": None, "thumb_sha256": None,
                   "media_type": None, "width": None, "height": None, "size_bytes": None, "phash": None,
                   "missing_reason": None}
            try:
                _, status, _, data = fetch.get(source, settings.user_agent, settings.photo_max_bytes)
                photo = photos.check(data, settings.photo_max_bytes)
                row.update(sha256=store.put(photo.data), thumb_sha256=store.put(photo.thumbnail),
                           media_type=photo.media_type, width=photo.width, height=photo.height,
                           size_bytes=len(photo.data), phash=photo.phash)
                done["photos"] += 1
            except (OSError, ValueError, photos.NotAPhoto) as exc:
                row["missing_reason"] = str(exc)[:300] or type(exc).__name__
            kept.append(row)
        if kept:
            photo_records.record(conn, listing_id, run_id, kept)
        time.sleep(pause_s)  # polite between pages of possibly the same site
    if rows:
        log.info("audit sample of run %s: evidence captured when drawn for %s", run_id, done)
    return done
