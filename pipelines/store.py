"""Store the listing (one row per canonical URL), this run's sighting of it, and its keyword matches.
Every statement is an UPSERT, so re-running a crawl for the same run changes nothing."""
from __future__ import annotations

from psycopg2.extras import Json, execute_values

from pipelines.dbwriter import DatabaseWriter

LISTING_VALUES = """(%(site_id)s, %(url)s, %(title)s, %(description)s, %(replies)s, %(price)s, %(currency)s, %(seller)s,
    %(seller_account)s, %(location)s, %(posted)s, %(image_urls)s::text[], %(language)s, %(score)s, %(score_reasons)s,
    %(rank_score)s, %(rank_model)s, %(run_id)s, %(run_id)s,
    %(card_hash)s, %(detail_fields)s::jsonb, CASE WHEN %(detail_fields)s IS NOT NULL THEN now() END)"""

UPSERT_LISTINGS = """
INSERT INTO listings (site_id, url, title, description, replies, price, currency, seller, seller_account, location, posted_at,
                      image_urls, language, score, score_reasons, rank_score, rank_model, first_run_id, last_run_id,
                      card_hash, detail_fields, detail_fetched_at)
VALUES %s
ON CONFLICT (url) DO UPDATE SET
    title = EXCLUDED.title, description = EXCLUDED.description, replies = EXCLUDED.replies, price = EXCLUDED.price,
    currency = EXCLUDED.currency, seller = EXCLUDED.seller, seller_account = EXCLUDED.seller_account,
    location = EXCLUDED.location,
    posted_at = EXCLUDED.posted_at, image_urls = EXCLUDED.image_urls, score = EXCLUDED.score,
    language = EXCLUDED.language,
    rank_score = EXCLUDED.rank_score, rank_model = EXCLUDED.rank_model, score_reasons = EXCLUDED.score_reasons,
    last_run_id = EXCLUDED.last_run_id, last_seen_at = now(),
    -- an item re-read from the last detail fetch (or replayed from the spool) keeps that fetch's record
    card_hash = CASE WHEN EXCLUDED.detail_fields IS NOT NULL THEN EXCLUDED.card_hash ELSE listings.card_hash END,
    detail_fields = COALESCE(EXCLUDED.detail_fields, listings.detail_fields),
    detail_fetched_at = COALESCE(EXCLUDED.detail_fetched_at, listings.detail_fetched_at),
    status = 'active', gone_run_id = NULL, gone_at = NULL, gone_reason = NULL
RETURNING url, id
"""

UPSERT_SIGHTINGS = """
INSERT INTO sightings (listing_id, run_id, search_query, search_url, title, price, currency)
VALUES %s
ON CONFLICT (listing_id, run_id) DO UPDATE SET seen_at = now(), title = EXCLUDED.title,
    price = EXCLUDED.price, currency = EXCLUDED.currency
"""

INSERT_MATCH = """
INSERT INTO keyword_matches (listing_id, keyword_id, term, language, product_group, kind, field,
                             span_start, span_end, matched_text)
VALUES %s
ON CONFLICT DO NOTHING
"""

INSERT_CONTACTS = """
INSERT INTO listing_contacts (listing_id, kind, value, link_key, field, span_start, span_end) VALUES %s
ON CONFLICT DO NOTHING
"""


def store_listings(conn, items: list[dict], site_id: int, run_id: int, keyword_ids: dict) -> dict[str, int]:
    """Listings, this run's sightings of them, their matches and contacts: one statement per table for all of
    them (a batch of a hundred is six statements, not six hundred). Listing ids by URL; a URL twice in one call
    is refused by PostgreSQL (the writer then stores the items one by one)."""
    with conn.cursor() as cur:
        rows = []
        for item in items:
            detail = item.get("_detail")
            rows.append({"rank_score": None, "rank_model": None, "seller_account": None, "replies": None,
                         **item, "site_id": site_id,
                         "run_id": run_id, "score_reasons": Json(item.get("score_reasons", [])),
                         "card_hash": item.get("_card"), "detail_fields": Json(detail) if detail else None})
        ids = dict(execute_values(cur, UPSERT_LISTINGS, rows, template=LISTING_VALUES, page_size=len(rows),
                                  fetch=True))
        listed = [(ids[item["url"]], item) for item in items]
        execute_values(cur, UPSERT_SIGHTINGS, [(lid, run_id, item.get("search_query"), item.get("search_url"),
                                                item["title"], item.get("price"), item.get("currency"))
                                               for lid, item in listed], page_size=len(listed))
        every = [lid for lid, _ in listed]
        cur.execute("DELETE FROM keyword_matches WHERE listing_id = ANY(%s) AND field <> 'photo_text'", (every,))
        matches = [(lid, keyword_ids.get((m["term"], m["language"], m["group"], m["kind"])), m["term"], m["language"],
                    m["group"], m["kind"], m["field"], m["start"], m["end"], m["text"])
                   for lid, item in listed for m in item.get("matches") or []]
        if matches:
            execute_values(cur, INSERT_MATCH, matches, page_size=1000)
        # Contacts read from its photos stay: the photos are read once, after the crawl (wildwatch/photo_text.py).
        cur.execute("DELETE FROM listing_contacts WHERE listing_id = ANY(%s) AND field <> 'photo_text'", (every,))
        found = [(lid, c["kind"], c["value"], c["link_key"], c["field"], c["start"], c["end"])
                 for lid, item in listed for c in item.get("contacts") or []]
        if found:
            execute_values(cur, INSERT_CONTACTS, found, page_size=1000)
    return ids


def store_listing(conn, item: dict, site_id: int, run_id: int, keyword_ids: dict) -> int:
    return store_listings(conn, [item], site_id, run_id, keyword_ids)[item["url"]]


class PostgresStorePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "store")

    def _store(self, conn, item):
        self._store_many(conn, [item])

    def _store_many(self, conn, items):
        spider = self.crawler.spider
        ids = store_listings(conn, items, spider.site_id, spider.run_id, spider.keyword_ids)
        for item in items:
            item["listing_id"] = ids[item["url"]]

    async def process_item(self, item):
        item.setdefault("score", 0.0)
        if await self.write(item, self._store, self._store_many):
            self.crawler.stats.inc_value("wildwatch/stored")
        return item
