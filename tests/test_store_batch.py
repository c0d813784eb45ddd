"""The store writes a batch of listings with one statement per table; the same rows as storing them one by
one, and an item PostgreSQL refuses (or a URL twice in a batch) costs only that item, found by writing the batch
item by item."""
import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from pipelines.store import PostgresStorePipeline, store_listing, store_listings
from wildwatch import runs, sites


def _items(n: int, tag: str) -> list[dict]:
    return [{"url": f"http://x.invalid/item/{tag}{i}", "title": f"Ngà voi {tag}{i}", "description": f"Zalo 09{i:08d}",
             "seller": f"seller {i % 3}", "seller_account": f"/u/{i % 3}", "price": Decimal(1000 * i), "currency": "VND",
             "location": "Hà Nội", "posted": dt.date(2026, 11, 1 + i % 28), "image_urls": [f"/img/{i}.jpg"] * (i % 2),
             "language": "vi", "score": 2.5, "score_reasons": ["ngà voi"], "search_query": "ngà voi",
             "search_url": "http://x.invalid/search?q=nga", "_card": f"card{i}", "_detail": {"title": "t"} if i % 2 else None,
             "matches": [{"term": "ngà voi", "language": "vi", "group": "ivory", "kind": "product", "field": "title",
                          "start": 0, "end": 7, "text": "Ngà voi"}],
             "contacts": [{"kind": "zalo", "value": f"+849{i:08d}", "link_key": f"phone:+849{i:08d}",
                           "field": "description", "start": 5, "end": 16}] if i % 3 else []}
            for i in range(n)]


def _stored(conn, run_id: int) -> list:
    with conn.cursor() as cur:
        cur.execute("""SELECT l.url, l.title, l.description, l.price, l.posted_at, l.image_urls, l.score_reasons,
                              l.card_hash, l.detail_fields, l.detail_fetched_at IS NOT NULL, s.search_query,
                              (SELECT array_agg((m.term, m.span_start, m.span_end) ORDER BY m.id) FROM keyword_matches m
                               WHERE m.listing_id = l.id)::text,
                              (SELECT array_agg((c.kind, c.value) ORDER BY c.kind, c.value) FROM listing_contacts c
                               WHERE c.listing_id = l.id)::text
                       FROM listings l JOIN sightings s ON s.listing_id = l.id AND s.run_id = %s ORDER BY l.url""",
                    (run_id,))
        return cur.fetchall()


def _site_and_runs(conn) -> tuple[int, int, int]:
    with conn:
        site_id = runs.upsert_site(conn, sites.load("demo_vn"))
        one, many = runs.manual_run(conn), runs.manual_run(conn)
    return site_id, one, many


def test_a_batch_stores_what_storing_each_item_stores(conn):
    site_id, one, many = _site_and_runs(conn)
    with conn:
        for item in _items(7, "a"):
            store_listing(conn, item, site_id, one, {})
    first = _stored(conn, one)
    with conn, conn.cursor() as cur:
        cur.execute("DELETE FROM listings")
    with conn:
        ids = store_listings(conn, _items(7, "a"), site_id, many, {})
    assert len(ids) == 7
    assert _stored(conn, many) == first


def test_a_refused_item_or_a_url_twice_in_a_batch_costs_only_that_item(conn, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WILDWATCH_SPOOL_DIR", str(tmp_path))
    site_id, run_id, _ = _site_and_runs(conn)
    crawler = SimpleNamespace(spider=SimpleNamespace(site_id=site_id, run_id=run_id, keyword_ids={}))
    store = PostgresStorePipeline(crawler)
    items = _items(6, "b")
    items[2]["posted"] = "not a date"  # PostgreSQL refuses this one
    items[4]["url"] = items[3]["url"]  # the same listing twice in one batch: both are stored, in order
    reasons = store._write_batch([(item, store._store, store._store_many) for item in items])
    assert [r is None for r in reasons] == [True, True, False, True, True, True]
    assert "date" in reasons[2]
    stored = {row[0]: row[1] for row in _stored(conn, run_id)}
    assert set(stored) == {items[i]["url"] for i in (0, 1, 3, 5)}
    assert stored[items[3]["url"]] == items[4]["title"], "the later item of a URL wins, as one by one"
    assert all("listing_id" in items[i] for i in (0, 1, 3, 4, 5))
    store.conn.close()
