"""Store the listing (one row per canonical URL), this run's sighting of it, and its keyword matches.
Every statement is an UPSERT, so re-running a crawl for the same run changes nothing."""
from __future__ import annotations

from psycopg2.extras import Json, execute_values

from pipelines.dbwriter import DatabaseWriter

UPSERT_LISTING = """
INSERT INTO listings (site_id, url, title, description, price, currency, seller, seller_account, location, posted_at,
                      image_urls, language, score, score_reasons, rank_score, rank_model, first_run_id, last_run_id,
                      card_hash, detail_fields, detail_fetched_at)
VALUES (%(site_id)s, %(url)s, %(title)s, %(description)s, %(price)s, %(currency)s, %(seller)s, %(seller_account)s,
        %(location)s, %(posted)s, %(image_urls)s, %(language)s, %(score)s, %(score_reasons)s,
        %(rank_score)s, %(rank_model)s, %(run_id)s, %(run_id)s,
        %(card_hash)s, %(detail_fields)s, CASE WHEN %(detail_fields)s IS NOT NULL THEN now() END)
ON CONFLICT (url) DO UPDATE SET
    title = EXCLUDED.title, description = EXCLUDED.description, price = EXCLUDED.price,
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
RETURNING id
"""

UPSERT_SIGHTING = """
INSERT INTO sightings (listing_id, run_id, search_query, search_url, title, price, currency)
VALUES (%s, %s, %s, %s, %s, %s, %s)
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


def store_listing(conn, item: dict, site_id: int, run_id: int, keyword_ids: dict) -> int:
    with conn.cursor() as cur:
        detail = item.get("_detail")
        row = {"rank_score": None, "rank_model": None, "seller_account": None, **item, "site_id": site_id, "run_id": run_id,
               "score_reasons": Json(item.get("score_reasons", [])), "card_hash": item.get("_card"),
               "detail_fields": Json(detail) if detail else None}
        cur.execute(UPSERT_LISTING, row)
        listing_id = cur.fetchone()[0]
        cur.execute(UPSERT_SIGHTING, (listing_id, run_id, item.get("search_query"), item.get("search_url"),
                                      item["title"], item.get("price"), item.get("currency")))
        cur.execute("DELETE FROM keyword_matches WHERE listing_id = %s", (listing_id,))
        if item.get("matches"):
            execute_values(cur, INSERT_MATCH, [
                (listing_id, keyword_ids.get((m["term"], m["language"], m["group"], m["kind"])), m["term"],
                 m["language"], m["group"], m["kind"], m["field"], m["start"], m["end"], m["text"])
                for m in item["matches"]])
        cur.execute("DELETE FROM listing_contacts WHERE listing_id = %s", (listing_id,))
        if item.get("contacts"):
            execute_values(cur, INSERT_CONTACTS, [(listing_id, c["kind"], c["value"], c["link_key"], c["field"],
                                                   c["start"], c["end"]) for c in item["contacts"]])
    return listing_id


class PostgresStorePipeline(DatabaseWriter):
    def __init__(self, crawler):
        super().__init__(crawler, "store")

    def _store(self, conn, item):
        spider = self.crawler.spider
        item["listing_id"] = store_listing(conn, item, spider.site_id, spider.run_id, spider.keyword_ids)

    async def process_item(self, item):
        item.setdefault("score", 0.0)
        if await self.write(item, self._store):
            self.crawler.stats.inc_value("wildwatch/stored")
        return item
