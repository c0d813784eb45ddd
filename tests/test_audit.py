"""The blind audit sample and the missed-offer estimate in the report."""
import dataclasses

import pytest

from helpers import seed_site_and_run
from wildwatch import config
from wildwatch.ranker import audit
from wildwatch.report.build import build_report
from wildwatch.review import claims, repository


@pytest.fixture
def month(conn):
    """A run that stored 400 listings and queued 40 of them (half of those confirmed later)."""
    with conn, conn.cursor() as cur:
        site_id, run_id = seed_site_and_run(cur, site="demo_tz", country="TZ", language="sw")
        cur.execute("UPDATE crawl_runs SET kind = 'monthly' WHERE id = %s", (run_id,))
        for i in range(400):
            cur.execute("INSERT INTO listings (site_id, url, title) VALUES (%s, %s, %s) RETURNING id",
                        (site_id, f"http://x/{i}", f"listing {i}"))
            listing_id = cur.fetchone()[0]
            cur.execute("INSERT INTO sightings (listing_id, run_id, title) VALUES (%s, %s, 't')", (listing_id, run_id))
            if i < 40:
                cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, %s)",
                            (listing_id, run_id, 1 + i % 7))
    return run_id


def test_the_sample_is_blind_random_and_drawn_once(conn, month):
    settings = dataclasses.replace(config.load(), audit_share=0.1, audit_cap=30)
    with conn:
        first = audit.draw(conn, month, settings)
    assert first == {"population": 360, "sampled": 30}  # 10% of 360 = 36, capped at 30
    with conn:
        assert audit.draw(conn, month, settings) == first  # a retried task draws nothing new
    with conn.cursor() as cur:
        cur.execute("SELECT l.id, q.priority FROM review_queue q JOIN listings l ON l.id = q.listing_id "
                    "WHERE q.reason = 'audit'")
        drawn = cur.fetchall()
    assert len(drawn) == 30 and all(lid > 40 for lid, _ in drawn)  # only unqueued listings
    # ... among those whose evidence the crawl kept because the draw might take them
    assert all(audit.eligible(month, f"http://x/{lid - 1}", settings.audit_share) for lid, _ in drawn)
    assert {p for _, p in drawn} <= set(range(1, 8))  # priorities taken from the run's own queue
    assert len({lid for lid, _ in drawn}) == 30 and max(lid for lid, _ in drawn) - min(lid for lid, _ in drawn) > 100
    # analysts cannot tell: no queue or item view carries the reason
    page = repository.queue_page(conn, limit=100)
    assert len(page) == 70 and all("reason" not in row and "audit" not in str(row.values()) for row in page)
    assert "reason" not in repository.item(conn, page[0]["id"])


def test_the_report_estimates_missed_offers_with_an_interval(conn, month):
    settings = dataclasses.replace(config.load(), audit_share=0.1, audit_cap=30)
    with conn:
        audit.draw(conn, month, settings)
    # Analysts work through the whole queue, audit items included: 3 of the 30 audit items are offers.
    confirmed_audit = 0
    while True:
        with conn:
            item = claims.claim_next(conn, "amina")
            if item is None:
                break
            with conn.cursor() as cur:
                cur.execute("SELECT reason, listing_id FROM review_queue WHERE id = %s", (item["queue_id"],))
                reason, listing_id = cur.fetchone()
            if reason == "audit":
                offer = confirmed_audit < 3
                confirmed_audit += offer
            else:
                offer = listing_id % 2 == 0
            claims.decide(conn, item["queue_id"], "amina", "confirmed" if offer else "not_wildlife",
                          product_group="ivory" if offer else None)
    report = build_report(conn, "2026-11")
    rows = {r["measure"]: r for r in report.tables["filter_quality"]}
    missed = rows["offers missed by the filter (all groups)"]
    assert (missed["population"], missed["sampled"], missed["decided"], missed["confirmed"]) == (360, 30, 30, 3)
    assert missed["share"] == pytest.approx(0.1) and missed["estimate"] == 36
    assert missed["share_low"] == pytest.approx(0.0346, abs=1e-3) and missed["share_high"] == pytest.approx(0.2562, abs=1e-3)
    assert missed["estimate_low"] == 12 and missed["estimate_high"] == 93
    assert rows["offers missed by the filter: ivory"]["confirmed"] == 3
    offers = report.tables["offers"]
    assert sum(r["queued"] for r in offers) == 40  # what the filter queued; the 30 audit items are not "queued"
    assert sum(r["confirmed"] for r in offers) == 23  # but the 3 offers they found are offers ...
    # ... said apart, so no row reads "queued 2, confirmed 3" without saying why
    assert (sum(r["confirmed_of_queued"] for r in offers), sum(r["found_by_audit"] for r in offers)) == (20, 3)
    assert all(r["confirmed_of_queued"] <= r["queued"] for r in offers)
    precision = rows["precision of the queue (confirmed / decided)"]
    assert (precision["decided"], precision["confirmed"]) == (40, 20) and precision["share"] == pytest.approx(0.5)


def test_a_drawn_item_the_crawl_kept_nothing_for_is_captured_when_drawn(conn, demo_sites, crawl_env):
    """Small populations draw past the listings the crawl kept evidence for: those are fetched when drawn
    (robots.txt obeyed), so every sampled item has a WARC and photos like a queued one."""
    from wildwatch.evidence import late

    base = demo_sites["demo_tz"]
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, site="demo_tz", country="TZ", language="sw")
        rows = [(f"{base}/item/tz0001", [f"{base}/img/tz0001-1.jpg"]), (f"{base}/account/secret", [])]
        for url, images in rows:
            cur.execute("INSERT INTO listings (site_id, url, title, image_urls) VALUES (%s, %s, 't', %s) RETURNING id",
                        (site, url, images))
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority, reason) VALUES (%s, %s, 1, 'audit')",
                        (cur.fetchone()[0], run))
    with conn:
        done = late.capture_missing(conn, run, pause_s=0)
    assert done == {"listings": 2, "pages": 1, "photos": 1, "missing": 1}
    with conn.cursor() as cur:
        cur.execute("""SELECT l.url, e.kind, e.sha256 IS NOT NULL, e.missing_reason FROM evidence e
                       JOIN listings l ON l.id = e.listing_id ORDER BY l.id""")
        found = cur.fetchall()
    assert found[0][1:3] == ("warc", True)
    assert found[1][1:3] == ("warc", False) and "robots.txt" in found[1][3]
    with conn:
        assert late.capture_missing(conn, run, pause_s=0)["listings"] == 0  # nothing left to capture


def _decide_all(conn, offers: int) -> None:
    """Analysts decide the whole queue: `offers` of the audit items are offers, every other item is not."""
    found = 0
    while True:
        with conn:
            item = claims.claim_next(conn, "amina")
            if item is None:
                return
            with conn.cursor() as cur:
                cur.execute("SELECT reason FROM review_queue WHERE id = %s", (item["queue_id"],))
                audit_item = cur.fetchone()[0] == "audit"
            offer = audit_item and found < offers
            found += offer
            claims.decide(conn, item["queue_id"], "amina", "confirmed" if offer else "not_wildlife")


def test_a_census_has_no_sampling_error_and_no_bound_below_what_was_seen(conn, month):
    settings = dataclasses.replace(config.load(), audit_share=1.0, audit_cap=1000)
    with conn:
        assert audit.draw(conn, month, settings) == {"population": 360, "sampled": 360}
    _decide_all(conn, offers=1)
    missed = audit.estimate(conn, __import__("datetime").date(2026, 11, 1))[0]
    assert (missed["estimate"], missed["estimate_low"], missed["estimate_high"]) == (1, 1, 1)
    assert missed["share_low"] == missed["share_high"] == missed["share"]


def test_listings_seen_by_two_runs_of_a_month_are_counted_once(conn, month):
    with conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO crawl_runs (run_key, kind, period) VALUES ('r2', 'monthly', '2026-11-01')
                       RETURNING id""")
        second = cur.fetchone()[0]
        cur.execute("INSERT INTO sightings (listing_id, run_id, title) SELECT listing_id, %s, 't' FROM sightings "
                    "WHERE run_id = %s", (second, month))
    settings = dataclasses.replace(config.load(), audit_share=0.1, audit_cap=30)
    with conn:
        audit.draw(conn, month, settings)
        audit.draw(conn, second, settings)
    assert audit.estimate(conn, __import__("datetime").date(2026, 11, 1))[0]["population"] == 360
