"""A listing found by hand, stored like a crawled one: its text through the same language detection, keyword
matching, contact extraction and ranker as the crawl's, its upload as evidence (content-addressed, hashed, in
`evidence verify`), its pictures as photos, a queue entry (reason 'hand'), its seller networks relinked.

Each platform and country is a site row of kind 'hand' (hand_facebook_vn), so the queue, networks, referrals
and the report read finds by hand with the same joins as crawled listings; each month's finds are sightings of
one run, hand-YYYY-MM.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from wildwatch import config, contacts, keywords, matching
from wildwatch.hand.files import Upload
from wildwatch.review.audit import record

LANGUAGES = {"CN": ["zh"], "VN": ["vi"], "TZ": ["sw", "en"], "KE": ["sw", "en"], "CM": ["fr", "en"],
             "NG": ["en"], "GH": ["en"], "UG": ["en", "sw"], "SN": ["fr"], "FR": ["fr"], "HK": ["zh", "en"]}
SOURCES = ("address", "html", "mhtml", "warc", "wacz", "pdf", "image", "text")


class HandError(ValueError):
    """Why a find cannot be stored; nothing of it is."""


@dataclass
class Find:
    platform: str
    country: str
    found_by: str
    url: str | None = None
    title: str | None = None
    text: str = ""
    seller: str | None = None
    price: str | None = None
    currency: str | None = None
    seen_on: dt.date | None = None
    upload: Upload | None = None
    file_name: str | None = None
    page_capture: object | None = None  # a PageCapture when fetched from its address
    screenshot: dict | None = None  # an evidence row for the fetched page's screenshot


@functools.lru_cache(maxsize=1)
def _matcher() -> matching.Matcher:
    return matching.Matcher(keywords.load(config.load().keywords_dir))


def platforms(conn) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT slug, title FROM hand_platforms ORDER BY title")
        return cur.fetchall()


def add_platform(conn, slug: str, title: str, by: str) -> None:
    if not re.fullmatch(r"[a-z0-9_]{2,32}", slug):
        raise HandError("a platform's short name is 2-32 lowercase letters, digits or _")
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO hand_platforms (slug, title, added_by) VALUES (%s, %s, %s)
                       ON CONFLICT (slug) DO UPDATE SET title = EXCLUDED.title""", (slug, title.strip()[:80], by))
    record(conn, by, "platform_add", "hand_platform", slug, None, {"title": title})


def _site(cur, slug: str, title: str, country: str) -> tuple[int, list[str]]:
    languages = LANGUAGES.get(country, ["en"])
    cur.execute("""INSERT INTO sites (name, country, languages, base_url, enabled, kind, platform)
                   VALUES (%s, %s, %s, '', false, 'hand', %s)
                   ON CONFLICT (name) DO UPDATE SET platform = EXCLUDED.platform RETURNING id, kind""",
                (f"hand_{slug}_{country.lower()}", country, languages, title))
    site_id, kind = cur.fetchone()
    if kind != "hand":
        raise HandError(f"a crawled site is named hand_{slug}_{country.lower()}")
    return site_id, languages


def _run(cur, seen_on: dt.date) -> int:
    period = seen_on.replace(day=1)
    cur.execute("""INSERT INTO crawl_runs (run_key, kind, period, status, finished_at)
                   VALUES (%s, 'manual', %s, 'succeeded', now())
                   ON CONFLICT (run_key) DO UPDATE SET finished_at = now() RETURNING id""",
                (f"hand-{period:%Y-%m}", period))
    return cur.fetchone()[0]


def _item(find: Find, languages: list[str], country: str) -> dict:
    from pipelines.normalize import clean_text, parse_price
    from wildwatch.language import detect

    upload = find.upload
    text = " ".join(t for t in (find.text, upload.text if upload else "") if t and t.strip())
    title = clean_text(find.title or (upload.title if upload else None) or text[:120], 500)
    if not title:
        raise HandError("a find needs a title or the post's text")
    item = {"title": title, "description": clean_text(text), "seller": clean_text(find.seller, 500),
            "location": None, "posted": find.seen_on, "image_urls": [], "search_query": None, "search_url": None}
    item["price"], item["currency"] = parse_price(find.price, find.currency)
    item["language"] = detect(" ".join(t for t in (title, (item["description"] or "")[:1000]) if t), languages)
    found = _matcher().match_listing(item["title"], item["description"])
    result = matching.score(found)
    item["matches"] = [dict(vars(m)) for m in found]
    item["score"], item["score_reasons"] = result.value, result.reasons
    own = urlsplit(find.url).hostname if find.url else None
    item["contacts"] = [contacts.as_row(c) for c in contacts.from_listing(item, country, item["language"], own)]
    return item


def _rank(conn, item: dict, site_name: str, country: str) -> None:
    from wildwatch.ranker import registry
    from wildwatch.ranker.features import Record, fact_tokens

    try:
        found = registry.active(conn)
    except ValueError:
        found = None
    if not found:
        return
    version, ranker = found
    record_ = Record(title=item["title"], description=item.get("description"), language=item.get("language"),
                     site=site_name, country=country,
                     price=float(item["price"]) if item.get("price") is not None else None,
                     currency=item.get("currency"), matches=item["matches"], keyword_score=item["score"])
    record_.facts = fact_tokens(record_)
    item["rank_score"], item["rank_model"] = ranker.score_one(record_), version


def _photos(conn, listing_id: int, run_id: int, images: list[bytes], store, settings) -> int:
    from wildwatch import photos
    from wildwatch.evidence import photos as records

    rows = []
    for position, data in enumerate(images[:settings.photos_per_listing], start=1):
        try:
            photo = photos.check(data, settings.photo_max_bytes)
        except photos.NotAPhoto as exc:
            rows.append({"position": position, "source_url": f"upload:{position}", "sha256": None,
                         "thumb_sha256": None, "media_type": None, "width": None, "height": None, "size_bytes": None,
                         "phash": None, "missing_reason": str(exc)[:300]})
            continue
        rows.append({"position": position, "source_url": f"upload:{position}", "sha256": store.put(photo.data),
                     "thumb_sha256": store.put(photo.thumbnail), "media_type": photo.media_type,
                     "width": photo.width, "height": photo.height, "size_bytes": len(photo.data),
                     "phash": photo.phash, "missing_reason": None})
    if rows:
        records.record(conn, listing_id, run_id, rows)
    return sum(1 for r in rows if r["sha256"])


def add(conn, find: Find, store, settings: config.Settings | None = None) -> dict:
    """Stores the find in the caller's transaction; returns {listing_id, queue_id, score, contacts, photos}."""
    from pipelines.store import store_listing
    from pipelines.enqueue import enqueue
    from wildwatch import runs
    from wildwatch.evidence import capture
    from wildwatch.networks import store as networks

    settings = settings or config.load()
    country = (find.country or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        raise HandError("the country is a two-letter code (VN, CN, TZ, CM...)")
    seen_on = find.seen_on or dt.date.today()
    with conn.cursor() as cur:
        cur.execute("SELECT title FROM hand_platforms WHERE slug = %s", (find.platform,))
        row = cur.fetchone()
        if row is None:
            raise HandError(f"no platform {find.platform!r}: pick one of the list, or an administrator adds it "
                            "(`wildwatch platforms add SLUG TITLE`)")
        site_id, languages = _site(cur, find.platform, row[0], country)
        run_id = _run(cur, seen_on)
        upload = find.upload
        url = (find.url or (upload.url if upload else None) or "").strip()
        # The address may come from inside a file (an MHTML header, a WARC record): as hostile as the file.
        if url and not re.fullmatch(r"https?://[^\s\x00-\x1f\x7f]{1,2000}", url):
            raise HandError("the address is an http(s) address of at most 2,000 characters, without spaces")
        digest = hashlib.sha256(upload.data).hexdigest() if upload else None
        if not url:  # a post without a public address (a closed group): named by what was uploaded
            url = f"hand:{digest or hashlib.sha256((find.text or '').encode()).hexdigest()}"
        cur.execute("SELECT l.id, s.kind FROM listings l JOIN sites s ON s.id = l.site_id WHERE l.url = %s", (url,))
        known = cur.fetchone()
        if known and known[1] != "hand":
            raise HandError(f"this address is already stored as crawled listing {known[0]}")
    item = _item(find, languages, country)
    item["url"] = url
    _rank(conn, item, f"hand_{find.platform}", country)
    keyword_ids = runs.sync_keywords(conn, keywords.load(settings.keywords_dir))
    listing_id = store_listing(conn, item, site_id, run_id, keyword_ids)
    priority = item.get("rank_score") if item.get("rank_score") is not None else item["score"]
    enqueue(conn, listing_id, run_id, priority, reason="hand")
    evidence = []
    version = f"{capture.crawler_version()} by-hand"
    if find.page_capture is not None:
        evidence.append(capture.archive(find.page_capture, store, settings.evidence_max_bytes, version))
    if find.screenshot:
        evidence.append(find.screenshot)
    if upload is not None:
        evidence.append({"kind": "upload", "sha256": store.put(upload.data), "size_bytes": len(upload.data),
                         "media_type": upload.media_type, "page_url": url,
                         "captured_at": dt.datetime.now(dt.timezone.utc).isoformat(), "crawler_version": version,
                         "missing_reason": None})
    capture.record_capture(conn, listing_id, run_id, evidence)
    kept = _photos(conn, listing_id, run_id, upload.images if upload else [], store, settings)
    if kept:  # a screenshot's or a saved page's pictures: the text on them is read now (a contact painted on)
        from wildwatch import photo_text

        with conn.cursor() as cur:
            cur.execute("SELECT id, sha256 FROM listing_photos WHERE listing_id = %s AND sha256 IS NOT NULL "
                        "AND ocr_at IS NULL", (listing_id,))
            unread = cur.fetchall()
        for photo_id, sha in unread:
            photo_text.read_one(conn, photo_id, store.get(sha.strip()))
        item["contacts"] += [{"kind": k, "value": v} for k, v in photo_text.contacts_of(conn, listing_id)]
    source = upload.kind if upload else ("address" if find.page_capture is not None else "text")
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO hand_finds (listing_id, platform, found_by, seen_on, source, file_sha256, file_name)
                       VALUES (%s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (listing_id) DO UPDATE SET found_by = EXCLUDED.found_by, seen_on = EXCLUDED.seen_on,
                           source = EXCLUDED.source, file_sha256 = EXCLUDED.file_sha256, file_name = EXCLUDED.file_name""",
                    (listing_id, find.platform, find.found_by, seen_on, source, digest, (find.file_name or "")[:200] or None))
        cur.execute("SELECT id FROM review_queue WHERE listing_id = %s", (listing_id,))
        queue_id = cur.fetchone()[0]
        networks.relink(cur)  # a phone in a Facebook post links to the Jiji listings with the same number
    record(conn, find.found_by, "hand_add", "listing", listing_id, None,
           {"platform": find.platform, "country": country, "source": source, "url": url, "file_sha256": digest,
            "score": item["score"], "contacts": len(item["contacts"])})
    return {"listing_id": listing_id, "queue_id": queue_id, "score": item["score"], "contacts": item["contacts"],
            "photos": kept, "url": url, "language": item["language"]}
