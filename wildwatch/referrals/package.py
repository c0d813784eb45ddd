"""A referral's package: the items in the recipient's terms (CSV and JSON), the evidence files, and a
manifest of SHA-256 hashes that `sha256sum -c MANIFEST.sha256` checks with nothing else installed. The ZIP
is itself hashed and the hash kept with the referral. Built deterministically: same content, same bytes."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

from wildwatch.db import dict_cursor
from wildwatch.evidence.store import LocalEvidenceStore, sha256_hex
from wildwatch.referrals import build
from wildwatch.review.export import _cell

# What a platform's trust-and-safety team needs to find and remove the ad, and what an investigator needs.
COLUMNS = {
    "platform": ("listing_url", "platform", "title", "seller", "price", "currency", "first_seen", "last_seen",
                 "product_group", "species", "reason", "evidence"),
    "agency": ("listing_url", "platform", "country", "title", "seller", "location", "price", "currency",
               "first_seen", "last_seen", "product_group", "species", "verified_by", "verified_at", "note",
               "evidence"),
}
EXTENSIONS = {"warc": "warc.gz", "screenshot": "png"}
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _evidence(conn, listing_ids: list[int]) -> dict[int, list[dict]]:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT DISTINCT ON (listing_id, kind) listing_id, kind, sha256, missing_reason, captured_at
                       FROM evidence WHERE purpose = 'capture' AND listing_id = ANY(%s)
                       ORDER BY listing_id, kind, captured_at DESC""", (listing_ids,))
        out: dict[int, list[dict]] = {}
        for row in cur.fetchall():
            out.setdefault(row["listing_id"], []).append(row)
        return out


def _rows(kind: str, items: list[dict], evidence: dict[int, list[dict]]) -> list[dict]:
    rows = []
    for it in items:
        files = [f"evidence/{e['sha256']}.{EXTENSIONS[e['kind']]}" for e in evidence.get(it["listing_id"], [])
                 if e["sha256"]]
        row = {"listing_url": it["url"], "platform": it["platform"], "country": it["country"], "title": it["title"],
               "seller": it["seller"], "location": it["location"],
               "price": None if it["price"] is None else str(it["price"]), "currency": it["currency"],
               "first_seen": it["first_seen_at"].date().isoformat(), "last_seen": it["last_seen_at"].date().isoformat(),
               "product_group": it["product_group"], "species": it["species"],
               "reason": "Verified by a wildlife-trade analyst as an offer of a protected wildlife product",
               "verified_by": it["decided_by"], "verified_at": it["decided_at"].isoformat(), "note": it["note"],
               "evidence": " ".join(files)}
        rows.append({c: row[c] for c in COLUMNS[kind]})
    return rows


def _csv(kind: str, rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS[kind])
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS[kind]])
    return out.getvalue().encode("utf-8")


def build_package(conn, referral_id: int, store: LocalEvidenceStore, out_dir: Path) -> tuple[Path, str]:
    """Write referral-N.zip (and referral-N.zip.sha256) to out_dir; record its hash on the referral."""
    ref = build.get(conn, referral_id)
    if ref is None:
        raise build.ReferralError(f"no referral {referral_id}")
    if ref["status"] != "draft":
        raise build.ReferralError(f"referral {referral_id} is {ref['status']}: only drafts are rebuilt")
    items = build.items(conn, referral_id)
    evidence = _evidence(conn, [it["listing_id"] for it in items])
    rows = _rows(ref["recipient_kind"], items, evidence)
    files: dict[str, bytes] = {
        "items.csv": _csv(ref["recipient_kind"], rows),
        "items.json": json.dumps({"referral": referral_id, "recipient_kind": ref["recipient_kind"],
                                  "recipient": ref["recipient"], "survey_month": ref["period"].strftime("%Y-%m"),
                                  "country": ref["country"], "items": rows},
                                 ensure_ascii=False, indent=1).encode("utf-8"),
    }
    not_captured = []
    for it in items:
        for e in evidence.get(it["listing_id"], []):
            if e["sha256"]:
                files[f"evidence/{e['sha256']}.{EXTENSIONS[e['kind']]}"] = store.get(e["sha256"])
            else:
                not_captured.append(f"{it['url']}: {e['kind']} not captured ({e['missing_reason']})")
    files["README.txt"] = (
        f"wildwatch referral {referral_id} to {ref['recipient']} ({ref['recipient_kind']}), survey month "
        f"{ref['period']:%Y-%m}, {len(items)} listings.\n"
        "items.csv / items.json: the listings. evidence/: what the crawler saw (WARC records, screenshots),\n"
        "each named by its SHA-256. Check every file with: sha256sum -c MANIFEST.sha256\n"
        + ("".join(f"\n{line}" for line in not_captured))).encode("utf-8")
    manifest = "".join(f"{sha256_hex(data)}  {name}\n" for name, data in sorted(files.items()))
    files["MANIFEST.sha256"] = manifest.encode("utf-8")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(f"referral-{referral_id}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    data = buffer.getvalue()
    digest = sha256_hex(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"referral-{referral_id}.zip"
    path.write_bytes(data)
    (out_dir / f"referral-{referral_id}.zip.sha256").write_text(f"{digest}  {path.name}\n")
    with conn.cursor() as cur:
        cur.execute("UPDATE referrals SET package_file = %s, package_sha256 = %s, updated_at = now() WHERE id = %s",
                    (path.name, digest, referral_id))
    return path, digest
