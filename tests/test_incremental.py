"""Incremental monthly surveys: the second month fetches only the listing pages whose search card changed
(and new listings), yet stores, queues and ages exactly what a full crawl of that month would."""
import datetime as dt
import shutil

import psycopg2
import pytest
import yaml

from test_crawl import crawl
from test_lifecycle import monthly_run, statuses
from wildwatch import config, runs

SITE = "demo_vn"


def snapshot(conn, run_id: int) -> dict:
    """Everything a survey leaves that an analyst or a report sees, keyed by URL (ids may differ)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT url, title, description, price, currency, seller, seller_account, location, posted_at,
                              image_urls, language, score, score_reasons::text, status, gone_reason
                       FROM listings ORDER BY url""")
        listings = cur.fetchall()
        cur.execute("""SELECT l.url, q.status, q.priority, q.reason FROM review_queue q
                       JOIN listings l ON l.id = q.listing_id ORDER BY l.url""")
        queue = cur.fetchall()
        cur.execute("""SELECT l.url, s.title, s.price, s.queued FROM sightings s JOIN listings l ON l.id = s.listing_id
                       WHERE s.run_id = %s ORDER BY l.url""", (run_id,))
        sightings = cur.fetchall()
        cur.execute("""SELECT l.url, m.term, m.field, m.span_start, m.span_end FROM keyword_matches m
                       JOIN listings l ON l.id = m.listing_id ORDER BY 1, 2, 3, 4""")
        matches = cur.fetchall()
        cur.execute("""SELECT l.url, c.kind, c.value FROM listing_contacts c
                       JOIN listings l ON l.id = c.listing_id ORDER BY 1, 2, 3""")
        contacts = cur.fetchall()
        # Which pages are kept, not how often: a full crawl keeps an unchanged page again every month.
        cur.execute("""SELECT DISTINCT l.url, e.kind FROM evidence e JOIN listings l ON l.id = e.listing_id
                       WHERE e.sha256 IS NOT NULL ORDER BY 1, 2""")
        evidence = cur.fetchall()
        cur.execute("""SELECT l.url, p.position, p.sha256 FROM listing_photos p
                       JOIN listings l ON l.id = p.listing_id ORDER BY 1, 2""")
        photos = cur.fetchall()
    return {"listings": listings, "queue": queue, "sightings": sightings, "matches": matches,
            "contacts": contacts, "evidence": evidence, "photos": photos}


def item_ids(served) -> set[str]:
    return {path.rsplit("/", 1)[1] for path in served if path.startswith("/item/")}


def clone(pg_cluster, source: str, name: str) -> str:
    admin = psycopg2.connect(pg_cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    admin.close()
    return pg_cluster.url(name)


def drop(pg_cluster, name: str) -> None:
    admin = psycopg2.connect(pg_cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def second_database(pg_cluster, database_url, conn):
    """A copy of the test database as it is when the test asks for it (for the full crawl to compare with)."""
    made = []

    def make() -> str:
        conn.close()  # a template database must have no other sessions
        name = database_url.rsplit("/", 1)[1] + "_full"
        made.append(name)
        return clone(pg_cluster, database_url.rsplit("/", 1)[1], name)

    yield make
    for name in made:
        drop(pg_cluster, name)


def test_month_two_fetches_only_changed_listings_and_stores_what_a_full_crawl_would(
        crawl_env, conn, database_url, takedowns, second_database):
    served = takedowns.served[SITE]
    first = monthly_run(conn, "incremental-1", dt.date(2026, 10, 1))
    served.take()
    crawl(SITE, crawl_env, "-a", f"run_id={first}")
    month1 = served.take()
    fetched1 = item_ids(month1)
    assert len(fetched1) > 20

    # The sellers' next month: new listings, two prices changed, two listings taken down.
    takedowns.next_month()
    stored = sorted(fetched1)
    repriced, removed = stored[3:5], stored[6:8]
    for listing_id in repriced:
        takedowns.reprice(SITE, listing_id, takedowns.sites[SITE].get(listing_id).price * 2 + 1000)
    takedowns.remove(SITE, removed)
    new = {x.id for x in takedowns.sites[SITE].later}

    full_url = second_database()
    inc = psycopg2.connect(database_url)
    second = monthly_run(inc, "incremental-2", dt.date(2026, 11, 1))
    crawl(SITE, crawl_env, "-a", f"run_id={second}")
    month2 = served.take()

    full = psycopg2.connect(full_url)
    try:
        assert monthly_run(full, "incremental-2", dt.date(2026, 11, 1)) == second
        crawl(SITE, {**crawl_env, "WILDWATCH_DATABASE_URL": full_url, "WILDWATCH_REFETCH_AFTER_DAYS": "0"},
              "-a", f"run_id={second}")
        month2_full = served.take()

        # Only what changed was fetched: new listings (those the terms find) and the repriced ones.
        fetched2 = item_ids(month2)
        assert set(repriced) <= fetched2
        assert fetched2 - set(repriced) <= new and fetched2 - set(repriced), fetched2
        assert not fetched2 & (fetched1 - set(repriced)), "an unchanged listing page was fetched again"
        assert item_ids(month2_full) == fetched1 - set(removed) | (fetched2 - set(repriced))

        # ... and what it stored, queued, matched and kept is what the full crawl stored.
        assert snapshot(inc, second) == snapshot(full, second)
        gone = {k for k, v in statuses(inc).items() if v[0] == "gone"}
        assert gone == set(removed)

        record = runs.site_crawl(inc, second, SITE)
        assert record["status"] == "succeeded", record
        with inc.cursor() as cur:
            cur.execute("SELECT stats FROM site_crawls WHERE run_id = %s", (second,))
            stats = cur.fetchone()[0]
        assert stats["details_skipped"] == len(fetched1) - len(removed) - len(repriced)
        assert stats["requests"] == sum(month2.values())
        with full.cursor() as cur:
            cur.execute("SELECT stats FROM site_crawls WHERE run_id = %s", (second,))
            assert cur.fetchone()[0]["details_skipped"] == 0
        assert sum(month2.values()) < sum(month2_full.values())  # bench/survey_requests.py measures by how much
    finally:
        full.close()
        inc.close()


def test_a_new_keyword_still_finds_a_listing_that_is_not_fetched_again(crawl_env, conn, takedowns, tmp_path):
    """A listing the first survey stored but did not queue, re-read (not fetched) by the next survey, is
    matched with that survey's keyword lists: a term added between them queues it, with its page kept."""
    served = takedowns.served[SITE]
    first = monthly_run(conn, "keyword-1", dt.date(2026, 10, 1))
    served.take()
    crawl(SITE, crawl_env, "-a", f"run_id={first}")
    with conn.cursor() as cur:
        cur.execute("""SELECT l.url, l.title FROM listings l WHERE NOT EXISTS
                           (SELECT 1 FROM review_queue q WHERE q.listing_id = l.id) ORDER BY l.url LIMIT 1""")
        url, title = cur.fetchone()
    served.take()

    keywords_dir = tmp_path / "keywords"
    shutil.copytree(config.load().keywords_dir, keywords_dir)
    # The listing's own title as a new (not searched) term: any listing the lists never queued would do.
    doc = yaml.safe_load((keywords_dir / "ivory.yaml").read_text(encoding="utf-8"))
    doc["terms"].append({"term": title, "lang": "vi", "kind": "product", "source": "team-translation", "search": False})
    (keywords_dir / "ivory.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    second = monthly_run(conn, "keyword-2", dt.date(2026, 11, 1))
    crawl(SITE, {**crawl_env, "WILDWATCH_KEYWORDS_DIR": str(keywords_dir)}, "-a", f"run_id={second}")
    listing_id = url.rsplit("/", 1)[1]
    with conn.cursor() as cur:
        cur.execute("""SELECT q.status, s.queued FROM review_queue q JOIN listings l ON l.id = q.listing_id
                       JOIN sightings s ON s.listing_id = l.id AND s.run_id = %s WHERE l.url = %s""", (second, url))
        assert cur.fetchone() == ("pending", True)
        cur.execute("""SELECT e.kind FROM evidence e JOIN listings l ON l.id = e.listing_id
                       WHERE l.url = %s AND e.sha256 IS NOT NULL""", (url,))
        assert [k for (k,) in cur.fetchall()] == ["warc"], "its page is kept once it is a candidate"
    assert served.take()[f"/item/{listing_id}"] == 1, "fetched once: for its evidence, not to read it"
