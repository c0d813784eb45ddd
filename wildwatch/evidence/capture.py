"""Turning a page the crawler saw into evidence rows: the artefacts that could be kept, and for every one
that could not, the reason. Never raises for a bad page or a bad store: the listing matters more."""
from __future__ import annotations

import datetime as dt
import logging

from psycopg2.extras import execute_values

from wildwatch.evidence import warc
from wildwatch.evidence.screenshot import Renderer, ScreenshotError
from wildwatch.evidence.store import EvidenceStore, EvidenceStoreError

log = logging.getLogger(__name__)


def crawler_version() -> str:
    import scrapy

    from wildwatch import __version__

    return f"wildwatch/{__version__} scrapy/{scrapy.__version__}"


def _row(kind: str, page_url: str, version: str, *, sha256=None, size=None, media_type=None, missing=None) -> dict:
    return {"kind": kind, "sha256": sha256, "size_bytes": size, "media_type": media_type, "page_url": page_url,
            "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(), "crawler_version": version,
            "missing_reason": missing}


def missing_row(kind: str, page_url: str, version: str, reason: str) -> dict:
    return _row(kind, page_url, version, missing=reason)


def _keep(store: EvidenceStore, kind: str, data: bytes, media_type: str, page_url: str, version: str) -> dict:
    try:
        digest = store.put(data)
    except EvidenceStoreError as exc:
        log.error("%s of %s not kept: %s", kind, page_url, exc)
        return _row(kind, page_url, version, missing=str(exc))
    return _row(kind, page_url, version, sha256=digest, size=len(data), media_type=media_type)


def archive(page: warc.PageCapture, store: EvidenceStore, max_bytes: int, version: str,
            extra_headers: dict | None = None) -> dict:
    if len(page.body) > max_bytes:
        return _row("warc", page.url, version,
                    missing=f"page too big to archive: {len(page.body):,} bytes > cap {max_bytes:,}")
    headers = {"WARC-Software": version, **(extra_headers or {})}
    return _keep(store, "warc", warc.build(page, headers), "application/warc", page.url, version)


async def screenshot(page: warc.PageCapture, store: EvidenceStore, renderer: Renderer, max_bytes: int,
                     version: str) -> dict:
    if len(page.body) > max_bytes:
        return _row("screenshot", page.url, version,
                    missing=f"page too big to render: {len(page.body):,} bytes > cap {max_bytes:,}")
    try:
        png = await renderer.screenshot(page.body, page.url)
    except ScreenshotError as exc:
        log.warning("no screenshot of %s: %s", page.url, exc)
        return _row("screenshot", page.url, version, missing=str(exc))
    return _keep(store, "screenshot", png, "image/png", page.url, version)


CAPTURE_VALUES = """(%(listing_id)s, %(run_id)s, 'capture', %(kind)s, %(sha256)s, %(size_bytes)s, %(media_type)s,
    %(page_url)s, %(captured_at)s::timestamptz, %(crawler_version)s, %(missing_reason)s)"""

UPSERT_CAPTURES = """
INSERT INTO evidence (listing_id, run_id, purpose, kind, sha256, size_bytes, media_type, page_url,
                      captured_at, crawler_version, missing_reason)
VALUES %s
ON CONFLICT (listing_id, run_id, kind) WHERE purpose = 'capture' DO UPDATE SET
    sha256 = EXCLUDED.sha256, size_bytes = EXCLUDED.size_bytes, media_type = EXCLUDED.media_type,
    page_url = EXCLUDED.page_url, captured_at = EXCLUDED.captured_at,
    crawler_version = EXCLUDED.crawler_version, missing_reason = EXCLUDED.missing_reason
"""

INSERT_CHECK_EVIDENCE = """
INSERT INTO evidence (listing_id, run_id, purpose, kind, sha256, size_bytes, media_type, page_url,
                      captured_at, crawler_version, missing_reason)
VALUES (%(listing_id)s, NULL, 'takedown_check', %(kind)s, %(sha256)s, %(size_bytes)s, %(media_type)s,
        %(page_url)s, %(captured_at)s, %(crawler_version)s, %(missing_reason)s)
RETURNING id
"""


def record_captures(conn, run_id: int, captures: list[tuple[int, list[dict]]]) -> None:
    """Evidence rows of several listings ((listing id, rows) each) in one statement."""
    values = [{**row, "listing_id": listing_id, "run_id": run_id} for listing_id, rows in captures for row in rows]
    if values:
        with conn.cursor() as cur:
            execute_values(cur, UPSERT_CAPTURES, values, template=CAPTURE_VALUES, page_size=len(values))


def record_capture(conn, listing_id: int, run_id: int, rows: list[dict]) -> None:
    record_captures(conn, run_id, [(listing_id, rows)])


def record_check_evidence(conn, listing_id: int, row: dict) -> int:
    with conn.cursor() as cur:
        cur.execute(INSERT_CHECK_EVIDENCE, {**row, "listing_id": listing_id})
        return cur.fetchone()[0]
