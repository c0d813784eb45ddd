"""Prices in the currency's own writing, a rough US-dollar equivalent from the shipped dated rates, and the
posted date and first/last seen on the item page."""
import pytest
from fastapi.testclient import TestClient

from helpers import seed_site_and_run, sign_in
from wildwatch import money
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize("amount,currency,shown", [
    (4653000, "VND", f"4.653.000{NBSP}₫"),
    (1234, "CNY", "¥1,234"),
    ("1234.50", "CNY", "¥1,234.50"),
    (45000, "XAF", f"45{NNBSP}000{NBSP}FCFA"),
    (325000, "TZS", f"TSh{NBSP}325,000"),
    ("1234.56", "EUR", f"1{NNBSP}234,56{NBSP}€"),
    (12, "ABC", f"12{NBSP}ABC"),
    (None, "VND", ""),
])
def test_prices_are_written_the_currencys_own_way(amount, currency, shown):
    assert money.format_amount(amount, currency) == shown


def test_the_us_dollar_equivalent_comes_from_the_dated_rates_shipped_with_the_project():
    assert money.rates()["date"] == "2026-11-30"
    assert money.about_usd(4653000, "VND") == "≈ US$180"
    assert money.about_usd(47000, "CNY") == "≈ US$6,500"
    assert money.about_usd(10, "USD") == "" and money.about_usd(10, "ABC") == "" and money.about_usd(None, "VND") == ""


def test_the_item_page_and_the_queue_show_formatted_prices_and_the_item_its_dates(conn, database_url):
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_vn", "VN", "vi")
        cur.execute("""INSERT INTO listings (site_id, url, title, price, currency, posted_at, score, first_seen_at,
                                             last_seen_at)
                       VALUES (%s, 'http://x/1', 'Vòng ngà voi thật', 4653000, 'VND', '2026-10-05', 3,
                               '2026-11-02 10:00', '2026-12-01 10:00') RETURNING id""", (site,))
        listing = cur.fetchone()[0]
        cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, 3) RETURNING id",
                    (listing, run))
        queue_id = cur.fetchone()[0]
        accounts.add_user(conn, "amina", "analyst", "correct horse battery")
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url)))
    sign_in(client, "amina", "correct horse battery")
    page = client.get(f"/item/{queue_id}").text
    assert f'<span class="price">4.653.000{NBSP}₫</span>' in page and "(≈ US$180)" in page
    assert "4653000.00" not in page
    assert "posted 2026-10-05 · first seen 2026-11-02 · last seen 2026-12-01" in page
    queue = client.get("/").text
    assert f'<td class="price">4.653.000{NBSP}₫</td>' in queue
