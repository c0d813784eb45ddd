"""`wildwatch evidence verify`: re-hash every file the database says was kept, and list what is missing,
altered, or was never captured (with the reason recorded at capture time)."""
from __future__ import annotations

from dataclasses import dataclass, field

from wildwatch.evidence.store import EvidenceAltered, EvidenceMissing, EvidenceStore


@dataclass
class Report:
    checked: int = 0
    bytes_checked: int = 0
    altered: list[str] = field(default_factory=list)      # store locations whose content no longer matches
    missing: list[str] = field(default_factory=list)      # store locations the database names but the store lacks
    not_captured: list[tuple[int, str, str, str]] = field(default_factory=list)  # listing, kind, url, reason

    @property
    def ok(self) -> bool:
        return not self.altered and not self.missing

    def lines(self) -> list[str]:
        out = [f"checked {self.checked} evidence files ({self.bytes_checked:,} bytes)"]
        out += [f"ALTERED  {p}" for p in self.altered]
        out += [f"MISSING  {p}" for p in self.missing]
        out += [f"NOT CAPTURED  listing {lid} {kind} {url}: {reason}" for lid, kind, url, reason in self.not_captured]
        out.append("evidence store OK" if self.ok else
                   f"evidence store FAILED: {len(self.altered)} altered, {len(self.missing)} missing")
        return out


def verify(conn, store: EvidenceStore) -> Report:
    report = Report()
    with conn.cursor() as cur:
        # pages, screenshots, listing photos and their thumbnails
        cur.execute("""SELECT sha256 FROM evidence WHERE sha256 IS NOT NULL
                       UNION SELECT sha256 FROM listing_photos WHERE sha256 IS NOT NULL
                       UNION SELECT thumb_sha256 FROM listing_photos WHERE thumb_sha256 IS NOT NULL
                       ORDER BY 1""")
        hashes = [row[0].strip() for row in cur.fetchall()]
        cur.execute("""SELECT listing_id, kind, page_url, missing_reason FROM evidence WHERE missing_reason IS NOT NULL
                       UNION ALL
                       SELECT listing_id, 'photo', source_url, missing_reason FROM listing_photos
                       WHERE missing_reason IS NOT NULL ORDER BY 1, 2""")
        report.not_captured = [tuple(row) for row in cur.fetchall()]
    for digest in hashes:
        try:
            data = store.get(digest)
        except EvidenceMissing:
            report.missing.append(store.location(digest))
            continue
        except EvidenceAltered:
            report.checked += 1
            report.altered.append(store.location(digest))
            continue
        report.checked += 1
        report.bytes_checked += len(data)
    return report
