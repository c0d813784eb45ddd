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
from wildwatch.evidence.store import EvidenceStore, sha256_hex
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
# A file an analyst uploaded (an offer found by hand), named for what its bytes were checked to be.
UPLOAD_EXTENSIONS = {"text/html": "html", "multipart/related": "mhtml", "application/warc": "warc",
                     "application/wacz": "wacz", "application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


def extension(row: dict) -> str:
    if row["kind"] == "upload":
        return UPLOAD_EXTENSIONS.get(row.get("media_type") or "", "bin")
    return EXTENSIONS[row["kind"]]
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _evidence(conn, listing_ids: list[int]) -> dict[int, list[dict]]:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT DISTINCT ON (listing_id, kind) listing_id, kind, sha256, missing_reason, captured_at,
                              media_type
                       FROM evidence WHERE purpose = 'capture' AND listing_id = ANY(%s)
                       ORDER BY listing_id, kind, captured_at DESC""", (listing_ids,))
        out: dict[int, list[dict]] = {}
        for row in cur.fetchall():
            out.setdefault(row["listing_id"], []).append(row)
        return out


def _rows(kind: str, items: list[dict], evidence: dict[int, list[dict]]) -> list[dict]:
    rows = []
    for it in items:
        files = [f"evidence/{e['sha256']}.{extension(e)}" for e in evidence.get(it["listing_id"], [])
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


PHOTO_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def _network_files(conn, network_id: int, store: EvidenceStore, not_captured: list[str]) -> dict[str, bytes]:
    """network.json (members with their review status, links and their reasons, contacts) and the evidence
    and photos of every member, not only the confirmed ones."""
    from wildwatch.networks import queries

    found = queries.network(conn, network_id)
    ids = [m["id"] for m in found["members"]]
    evidence = _evidence(conn, ids)
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT listing_id, position, source_url, sha256, media_type, missing_reason FROM listing_photos
                       WHERE listing_id = ANY(%s) ORDER BY listing_id, position""", (ids,))
        photos = cur.fetchall()
    files: dict[str, bytes] = {}
    members = []
    for m in found["members"]:
        names = [f"evidence/{e['sha256']}.{extension(e)}" for e in evidence.get(m["id"], []) if e["sha256"]]
        names += [f"photos/{p['sha256'].strip()}.{PHOTO_EXTENSIONS.get(p['media_type'], 'img')}" for p in photos
                  if p["listing_id"] == m["id"] and p["sha256"]]
        members.append({"listing": m["id"], "listing_url": m["url"], "platform": m["site"], "country": m["country"],
                        "month": m["month"], "title": m["title"], "seller": m["seller"],
                        "seller_account": m["seller_account"], "review": m["decision"] or m["review_status"],
                        "on_the_site": m["status"], "files": names})
        for e in evidence.get(m["id"], []):
            if e["sha256"]:
                files[f"evidence/{e['sha256']}.{extension(e)}"] = store.get(e["sha256"])
    for p in photos:
        if p["sha256"]:
            files[f"photos/{p['sha256'].strip()}.{PHOTO_EXTENSIONS.get(p['media_type'], 'img')}"] = \
                store.get(p["sha256"].strip())
        else:
            not_captured.append(f"{p['source_url']}: photo not kept ({p['missing_reason']})")
    files["network.json"] = json.dumps({
        "network": found["id"], "platforms": found["platforms"], "countries": found["country_codes"],
        "months": found["month_list"], "members": members,
        "links": [{"reason": link["reason"], "listings": link["listing_ids"]} for link in found["links"]],
        "contacts": found["contacts"]}, ensure_ascii=False, indent=1, default=str).encode("utf-8")
    return files


def build_package(conn, referral_id: int, store: EvidenceStore, out_dir: Path) -> tuple[Path, str]:
    """Keep the package in the evidence store (so every service and machine can hand it out, and backups
    hold it), write referral-N.zip (and .sha256) to out_dir as the local copy; record its hash."""
    ref = build.get(conn, referral_id)
    if ref is None:
        raise build.ReferralError(f"no referral {referral_id}")
    if ref["status"] != "draft":
        raise build.ReferralError(f"referral {referral_id} is {ref['status']}: only drafts are rebuilt")
    data = render(conn, ref, store)
    digest = store.put(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"referral-{referral_id}.zip"
    path.write_bytes(data)
    (out_dir / f"referral-{referral_id}.zip.sha256").write_text(f"{digest}  {path.name}\n")
    with conn.cursor() as cur:
        cur.execute("UPDATE referrals SET package_file = %s, package_sha256 = %s, updated_at = now() WHERE id = %s",
                    (path.name, digest, referral_id))
    return path, digest


def render(conn, ref: dict, store: EvidenceStore) -> bytes:
    """The package's bytes, a pure function of the database and the store (same rows, same bytes): a
    restored system rebuilds every package it ever sent byte for byte."""
    referral_id = ref["id"]
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
    not_captured: list[str] = []
    if ref.get("network_id"):
        files.update(_network_files(conn, ref["network_id"], store, not_captured))
    for it in items:
        for e in evidence.get(it["listing_id"], []):
            if e["sha256"]:
                files[f"evidence/{e['sha256']}.{extension(e)}"] = store.get(e["sha256"])
            else:
                not_captured.append(f"{it['url']}: {e['kind']} not captured ({e['missing_reason']})")
    files["README.txt"] = (
        f"wildwatch referral {referral_id} to {ref['recipient']} ({ref['recipient_kind']}), survey month "
        f"{ref['period']:%Y-%m}, {len(items)} listings.\n"
        "items.csv / items.json: the listings. evidence/: what the crawler saw (WARC records, screenshots),\n"
        "each named by its SHA-256. Check every file with: sha256sum -c MANIFEST.sha256\n"
        + ("network.json: the whole seller network (every listing, how they are linked, the contacts);\n"
           "photos/: every member's photos. Contains personal data: handle under your data-protection rules.\n"
           if ref.get("network_id") else "")
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
    return buffer.getvalue()
