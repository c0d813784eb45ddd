"""Retention of listing photos (personal data when they show people): photos of listings analysts decided were
not wildlife are deleted once the decision is older than a configurable age. Photos of confirmed, legal,
unsure or undecided listings stay: they may still be evidence. Each purge is one audit entry."""
from __future__ import annotations

from wildwatch.evidence.store import EvidenceStore
from wildwatch.review import audit

PURGEABLE = """
SELECT p.id, p.sha256, p.thumb_sha256 FROM listing_photos p
JOIN LATERAL (SELECT decision, decided_at FROM review_decisions d WHERE d.listing_id = p.listing_id
              ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) d ON true
WHERE p.sha256 IS NOT NULL AND d.decision = 'not_wildlife' AND d.decided_at < now() - make_interval(days => %s)
"""


def purge_photos(conn, store: EvidenceStore, older_than_days: int, user: str, dry_run: bool = False) -> dict:
    """Delete the photos (and thumbnails) of listings decided "not wildlife" more than N days ago; a file
    another kept photo or evidence row still uses stays in the store. Returns counts."""
    if older_than_days < 0:
        raise ValueError("the age must be zero or more days")
    with conn, conn.cursor() as cur:
        cur.execute(PURGEABLE, (older_than_days,))
        rows = cur.fetchall()
        done = {"photos": len(rows), "files_deleted": 0, "older_than_days": older_than_days, "dry_run": dry_run}
        if dry_run or not rows:
            return done
        ids = [r[0] for r in rows]
        cur.execute("""UPDATE listing_photos SET sha256 = NULL, thumb_sha256 = NULL, phash = NULL,
                           missing_reason = 'purged: retention of photos of listings decided not wildlife'
                       WHERE id = ANY(%s)""", (ids,))
        cur.execute("DELETE FROM photo_links WHERE photo_a = ANY(%(ids)s) OR photo_b = ANY(%(ids)s)", {"ids": ids})
        files = {h.strip() for r in rows for h in r[1:] if h}
        cur.execute("""SELECT sha256 FROM listing_photos WHERE sha256 = ANY(%(f)s)
                       UNION SELECT thumb_sha256 FROM listing_photos WHERE thumb_sha256 = ANY(%(f)s)
                       UNION SELECT sha256 FROM evidence WHERE sha256 = ANY(%(f)s)""", {"f": sorted(files)})
        still_used = {r[0].strip() for r in cur.fetchall()}
        for digest in sorted(files - still_used):
            done["files_deleted"] += store.delete(digest)
        audit.record(conn, user, "purge_photos", "listing_photos", None, None, done)
    return done
