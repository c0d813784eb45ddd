"""Recording listing photos (wildwatch/photos.py checks them; pipelines/photos.py fetches them)."""
from __future__ import annotations

from psycopg2.extras import execute_values

UPSERT = """
INSERT INTO listing_photos (listing_id, run_id, position, source_url, sha256, thumb_sha256, media_type, width, height,
                            size_bytes, phash, missing_reason)
VALUES %s
ON CONFLICT (listing_id, source_url) DO UPDATE SET
    run_id = EXCLUDED.run_id, position = EXCLUDED.position, fetched_at = now(),
    sha256 = coalesce(EXCLUDED.sha256, listing_photos.sha256),
    thumb_sha256 = coalesce(EXCLUDED.thumb_sha256, listing_photos.thumb_sha256),
    media_type = coalesce(EXCLUDED.media_type, listing_photos.media_type),
    width = coalesce(EXCLUDED.width, listing_photos.width), height = coalesce(EXCLUDED.height, listing_photos.height),
    size_bytes = coalesce(EXCLUDED.size_bytes, listing_photos.size_bytes),
    phash = coalesce(EXCLUDED.phash, listing_photos.phash),
    -- a photo kept once stays kept: a later failed fetch does not erase the evidence
    missing_reason = CASE WHEN listing_photos.sha256 IS NOT NULL OR EXCLUDED.sha256 IS NOT NULL THEN NULL
                          ELSE EXCLUDED.missing_reason END
"""
FIELDS = ("position", "source_url", "sha256", "thumb_sha256", "media_type", "width", "height", "size_bytes", "phash",
          "missing_reason")


def record(conn, listing_id: int, run_id: int | None, rows: list[dict]) -> None:
    if not rows:
        return
    with conn.cursor() as cur:
        execute_values(cur, UPSERT, [(listing_id, run_id, *(r.get(k) for k in FIELDS)) for r in rows])
