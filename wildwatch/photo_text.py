"""Reading candidates' photos (wildwatch/ocr.py) and what the text on them links: a phone, WeChat, Zalo,
WhatsApp or Telegram id painted over the product is a contact of the listing like one in its description
(field 'photo_text'), so the seller's listings join one network with the reason "written on a photo".

Only photos of queued listings are read, each once; a survey reads its own after the crawl (the `read_photos`
task), before seller networks are linked. A photo that cannot be read records why and is not tried again."""
from __future__ import annotations

import functools
import logging
import time

from psycopg2.extras import Json, execute_values

from wildwatch import contacts, ocr

log = logging.getLogger(__name__)

PENDING = """
SELECT p.id, p.listing_id, p.sha256 FROM listing_photos p
WHERE p.ocr_at IS NULL AND p.sha256 IS NOT NULL
  AND EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = p.listing_id
                                       AND (%(run)s::bigint IS NULL OR q.run_id = %(run)s))
ORDER BY p.listing_id, p.position
LIMIT %(limit)s
"""


def read_pending(conn, store, run_id: int | None = None, limit: int = 100_000, budget_s: float | None = None) -> dict:
    """Read the candidates' unread photos (of one run, or all), within `budget_s` seconds if given; then
    refresh the photo text and its contacts of every listing touched. Commits per listing's photos."""
    with conn.cursor() as cur:
        cur.execute(PENDING, {"run": run_id, "limit": limit})
        photos = cur.fetchall()
    started = time.monotonic()
    done = {"photos": 0, "with_text": 0, "failed": 0, "ms": 0, "listings": 0, "contacts": 0, "left": 0}
    touched: list[int] = []
    for i, (photo_id, listing_id, sha) in enumerate(photos):
        if budget_s is not None and time.monotonic() - started > budget_s:
            done["left"] = len(photos) - i
            break
        with conn:
            text, error, ms = read_one(conn, photo_id, store.get(sha.strip()), refresh=False)
        done["photos"] += 1
        done["failed"] += bool(error)
        done["with_text"] += bool(text)
        done["ms"] += ms or 0
        if not touched or touched[-1] != listing_id:
            touched.append(listing_id)
    for listing_id in touched:
        with conn:
            done["contacts"] += refresh_listing(conn, listing_id)
    done["listings"] = len(touched)
    if photos:
        log.info("photo text: %s", done)
    return done


def read_one(conn, photo_id: int, data: bytes, refresh: bool = True) -> tuple[str | None, str | None, int | None]:
    """Read one stored photo, record what was read (or why not); with refresh, its listing's photo text and
    contacts too. Returns (text, error, ms)."""
    try:
        reading = ocr.read(data)
        text, error, ms = reading.text or None, None, reading.ms
    except Exception as exc:  # noqa: BLE001 - a photo the engine cannot read is recorded, never fatal
        text, error, ms = None, f"{type(exc).__name__}: {exc}"[:300], None
    with conn.cursor() as cur:
        cur.execute("UPDATE listing_photos SET ocr_text = %s, ocr_ms = %s, ocr_at = now(), ocr_error = %s "
                    "WHERE id = %s RETURNING listing_id", (text, ms, error, photo_id))
        listing_id = cur.fetchone()[0]
    if refresh:
        refresh_listing(conn, listing_id)
    return text, error, ms


def contacts_of(conn, listing_id: int) -> list[tuple[str, str]]:
    with conn.cursor() as cur:
        cur.execute("SELECT kind, value FROM listing_contacts WHERE listing_id = %s AND field = 'photo_text' "
                    "ORDER BY kind, value", (listing_id,))
        return cur.fetchall()


@functools.lru_cache(maxsize=1)
def _matcher():
    from wildwatch import config, keywords, matching

    return matching.Matcher(keywords.load(config.load().keywords_dir))


def _rescore(cur, listing_id: int, title: str, description: str | None, text: str | None) -> None:
    """Keyword matches in the photo text (a field of its own, weighed lower than the description), and the
    listing's keyword score and reasons with them."""
    from wildwatch import matching
    from pipelines.store import INSERT_MATCH

    matcher = _matcher()
    on_photo = matcher.match(text, "photo_text") if text else []
    cur.execute("DELETE FROM keyword_matches WHERE listing_id = %s AND field = 'photo_text'", (listing_id,))
    if on_photo:
        cur.execute("SELECT id, term, language, product_group, kind FROM keywords")
        ids = {tuple(r[1:]): r[0] for r in cur.fetchall()}
        execute_values(cur, INSERT_MATCH, [(listing_id, ids.get((m.term, m.language, m.group, m.kind)), m.term,
                                            m.language, m.group, m.kind, m.field, m.start, m.end, m.text)
                                           for m in on_photo])
    result = matching.score(matcher.match_listing(title, description) + on_photo)
    cur.execute("UPDATE listings SET score = %s, score_reasons = %s WHERE id = %s",
                (result.value, Json(result.reasons), listing_id))


def refresh_listing(conn, listing_id: int) -> int:
    """The listing's photo text (its photos' texts in order), the contacts and keywords in it; returns how many
    contacts."""
    from pipelines.store import INSERT_CONTACTS

    with conn.cursor() as cur:
        cur.execute("""SELECT string_agg(ocr_text, E'\\n' ORDER BY position) FROM listing_photos
                       WHERE listing_id = %s AND ocr_text IS NOT NULL""", (listing_id,))
        joined = cur.fetchone()[0]
        text = ocr.contact_text(joined) if joined else None
        cur.execute("""UPDATE listings SET photo_text = %s WHERE id = %s
                       RETURNING (SELECT s.country FROM sites s WHERE s.id = site_id), language, title, description""",
                    (text, listing_id))
        country, language, title, description = cur.fetchone()
        _rescore(cur, listing_id, title, description, text)
        cur.execute("DELETE FROM listing_contacts WHERE listing_id = %s AND field = 'photo_text'", (listing_id,))
        found = contacts.extract(text, "photo_text", country, language) if text else []
        if found:
            execute_values(cur, INSERT_CONTACTS, [(listing_id, c.kind, c.value, c.key, c.field, c.start, c.end)
                                                 for c in found])
    return len(found)
