"""Seller networks in the review app: linked offers and highlighted contacts on the item page, a page per
network; in Chromium, nothing is requested from anywhere but our own origin."""
import re

import pytest
from fastapi.testclient import TestClient

from helpers import seed_site_and_run, store_with_contacts
from wildwatch.networks import store
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"
HOSTILE_SELLER = '<img src=x onerror=alert(1)> WhatsApp 0712 345 678'


@pytest.fixture
def network_app(conn, database_url):
    with conn, conn.cursor() as cur:
        tz, run = seed_site_and_run(cur, "demo_tz", "TZ", "sw")
        cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES ('demo_cm', 'CM', '{fr}', 'http://y')"
                    " RETURNING id")
        cm = cur.fetchone()[0]
    ids = {
        "tz": store_with_contacts(conn, tz, run, "http://x/1", "Pembe za ndovu", "simu: 0712 345 678, bei nafuu",
                                  HOSTILE_SELLER, "/seller/u1", queue=True),
        "cm": store_with_contacts(conn, cm, run, "http://y/2", "Défense d'éléphant", "WhatsApp +255 712 345 678",
                                  "Paul", "/seller/c1", region="CM", language="fr", queue=True),
        "cm2": store_with_contacts(conn, cm, run, "http://y/3", "Ivoire brut", "prix 45 000 FCFA", "Paul", "/seller/c1",
                                   region="CM", language="fr"),
        "alone": store_with_contacts(conn, tz, run, "http://x/4", "Carved bangle", "Bei 450000", "Juma", "/seller/u9",
                                     queue=True),
    }
    store.rebuild(conn)
    with conn, conn.cursor() as cur:
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
        cur.execute("SELECT listing_id, id FROM review_queue")
        queue = dict(cur.fetchall())
        cur.execute("SELECT DISTINCT network_id FROM network_members")
        (network,), = cur.fetchall()
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url)))
    client.post("/login", data={"username": "amina", "password": PASSWORD})
    return client, ids, {k: queue.get(v) for k, v in ids.items()}, network


def test_the_item_page_shows_linked_offers_with_reasons_and_highlights_contacts(network_app):
    client, ids, queue, network = network_app
    page = client.get(f"/item/{queue['tz']}").text
    linked = page[page.index('id="linked"'):]
    assert f'href="/network/{network}"' in linked
    assert "same WhatsApp +255712345678 on demo_cm and demo_tz" in linked
    assert f'href="/item/{queue["cm"]}"' in linked  # queued: clickable
    assert "Ivoire brut" in linked and "not queued" in linked
    assert "same network (through other listings)" in linked
    # contacts marked where they are, in the description and in the (hostile, escaped) seller field
    assert re.search(r'<mark class="contact" title="contact: phone \+255712345678">0712 345 678</mark>', page)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert '<mark class="contact" title="contact: WhatsApp +255712345678">0712 345 678</mark>' in page
    alone = client.get(f"/item/{queue['alone']}").text
    assert "No other listing shares a contact or the seller account" in alone


def test_the_network_page_lists_listings_accounts_contacts_and_draws_the_links(network_app, conn):
    client, ids, queue, network = network_app
    page = client.get(f"/network/{network}").text
    assert "3 listings" in page and "demo_cm, demo_tz" in page and "CM, TZ" in page
    assert page.count("<circle") == 3 and page.count("<line") == 2  # one shared phone (star), one shared account
    assert "same seller account &#39;Paul&#39; on demo_cm" in page
    assert "WhatsApp +255712345678" in page and "demo_cm /seller/c1" in page
    assert "<img src=x" not in page
    listing = client.get("/networks").text
    assert f'href="/network/{network}"' in listing
    assert client.get("/network/99999").status_code == 404
    # a network merged into an older one: its old address leads to the one that took it
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO networks (merged_into) VALUES (%s) RETURNING id", (network,))
        old = cur.fetchone()[0]
    moved = client.get(f"/network/{old}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"] == f"/network/{network}"


@pytest.mark.browser
def test_in_chromium_linked_offers_lead_to_the_network_and_nothing_leaves_our_origin(network_app):
    from playwright.sync_api import sync_playwright

    from helpers import browser_login, served
    from spiders.browser import CHROMIUM_ARGS, chromium_path

    client, ids, queue, network = network_app
    requests, errors = [], []
    with served(client.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        browser_login(page, base, "amina", PASSWORD)
        page.goto(f"{base}/item/{queue['tz']}")
        assert page.locator("#linked tr").count() == 3  # a header and two linked offers
        assert page.locator("mark.contact").count() >= 2
        page.click(f"#linked a[href='/network/{network}']")
        page.wait_for_url(f"{base}/network/{network}")
        assert page.locator("svg.network-graph circle").count() == 3
        page.click(f"a[href='/item/{queue['cm']}']")
        page.wait_for_url(f"{base}/item/{queue['cm']}")
        browser.close()
    assert errors == []
    assert requests and all(u.startswith(base) for u in requests), [u for u in requests if not u.startswith(base)]
