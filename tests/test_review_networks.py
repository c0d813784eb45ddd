"""Seller networks in the review app: linked offers and highlighted contacts on the item page, a page per
network; in Chromium, nothing is requested from anywhere but our own origin."""
import io
import re

import pytest
from PIL import Image
from fastapi.testclient import TestClient

from helpers import seed_site_and_run, store_with_contacts, sign_in
from wildwatch.networks import store
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"
HOSTILE_SELLER = '<img src=x onerror=alert(1)> WhatsApp 0712 345 678'


def add_photos(conn, listing_id: int, evidence_dir, seeds: list[str]) -> list[int]:
    """Photos stored as the crawl stores them (the demo's drawings), in the evidence store and the table."""
    from wildwatch import photos
    from wildwatch.demo.photos import render
    from wildwatch.evidence import photos as records
    from wildwatch.evidence.store import open_store

    store = open_store(evidence_dir)
    rows = []
    for position, seed in enumerate(seeds, start=1):
        photo = photos.check(render(seed), 10**7)
        rows.append({"position": position, "source_url": f"http://x/img/{seed}.jpg", "sha256": store.put(photo.data),
                     "thumb_sha256": store.put(photo.thumbnail), "media_type": photo.media_type,
                     "width": photo.width, "height": photo.height, "size_bytes": len(photo.data),
                     "phash": photo.phash, "missing_reason": None})
    rows.append({"position": len(seeds) + 1, "source_url": "http://x/img/evil.svg", "sha256": None,
                 "thumb_sha256": None, "media_type": None, "width": None, "height": None, "size_bytes": None,
                 "phash": None, "missing_reason": "SVG or XML, never kept (it can carry script)"})
    with conn:
        records.record(conn, listing_id, None, rows)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM listing_photos WHERE listing_id = %s AND sha256 IS NOT NULL ORDER BY position",
                    (listing_id,))
        return [r[0] for r in cur.fetchall()]


@pytest.fixture
def network_app(conn, database_url, tmp_path, monkeypatch):
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
    monkeypatch.setenv("WILDWATCH_EVIDENCE_DIR", str(tmp_path / "evidence"))
    add_photos(conn, ids["tz"], tmp_path / "evidence", ["tusk", "side"])
    add_photos(conn, ids["alone"], tmp_path / "evidence", ["tusk"])  # the same photo on an unlinked listing
    store.rebuild(conn)
    with conn, conn.cursor() as cur:
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
        cur.execute("SELECT listing_id, id FROM review_queue")
        queue = dict(cur.fetchall())
        cur.execute("SELECT DISTINCT network_id FROM network_members")
        (network,), = cur.fetchall()
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url,
                                                  evidence_dir=tmp_path / "evidence")))
    sign_in(client, "amina", PASSWORD)
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
    # the dots carry the numbers of the listings table, and each reason names the listings sharing the key
    assert re.findall(r'<text class="node-label"[^>]*>(\d+)</text>', page) == ["1", "2", "3"]
    assert re.findall(r'<tr id="member-(\d+)"><td>(\d+)</td>', page) == [("1", "1"), ("2", "2"), ("3", "3")]
    reasons = re.findall(r"<li>([^<]*): listings ((?:<a [^>]*>#\d+</a>(?:, )?)+)</li>", page)
    assert len(reasons) == 2 and all(len(re.findall("#\\d+", r[1])) == 2 for r in reasons), reasons
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
        assert page.locator("#photos a.thumb img").count() == 2
        page.keyboard.press("p")
        page.wait_for_function("location.hash === '#photo-1'")
        assert page.locator("#photo-1 img").is_visible()
        page.wait_for_function("document.querySelector('#photo-1 img').naturalWidth === 400")
        page.keyboard.press("Escape")
        page.wait_for_function("location.hash === '#photos'")
        page.click(f"#linked a[href='/network/{network}']")
        page.wait_for_url(f"{base}/network/{network}")
        assert page.locator("svg.network-graph circle").count() == 3
        page.click(f"a[href='/item/{queue['cm']}']")
        page.wait_for_url(f"{base}/item/{queue['cm']}")
        browser.close()
    assert errors == []
    assert requests and all(u.startswith(base) for u in requests), [u for u in requests if not u.startswith(base)]


def test_photos_are_shown_from_our_own_store_and_a_shared_photo_is_a_possible_link_only(network_app, conn):
    client, ids, queue, network = network_app
    page = client.get(f"/item/{queue['tz']}").text
    gallery = page[page.index('id="photos"'):page.index('id="linked"')]
    thumbs = re.findall(r'<img src="(/photo/\d+/thumb)"', gallery)
    larges = re.findall(r'<img src="(/photo/\d+)"', gallery)
    assert len(thumbs) == len(larges) == 2 and "http://x/img" not in page  # never hot-linked
    assert "photo 3 not kept: SVG or XML, never kept" in gallery
    thumb = client.get(thumbs[0])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["x-content-type-options"] == "nosniff" and "sandbox" in thumb.headers["content-security-policy"]
    assert Image.open(io.BytesIO(client.get(larges[0]).content)).size == (400, 300)
    # the shared photo links the unlinked listing as a possibility, not as a member of the network
    linked = page[page.index('id="linked"'):]
    assert "Possible links by photo" in linked and "Carved bangle" in linked and "0 of 64 bits differ" in linked
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM network_members WHERE listing_id = %s", (ids["alone"],))
        assert cur.fetchone()[0] == 0
    queue_page = client.get("/").text
    assert re.search(r'<td class="thumb"><img src="/photo/\d+/thumb"', queue_page)
    assert client.get("/photo/999999").status_code == 404
    client.cookies.clear()
    assert client.get(thumbs[0], follow_redirects=False).status_code in (303, 401)  # photos need a login


def test_a_supervisor_refers_a_whole_network_with_every_members_evidence_and_the_links(network_app, conn, tmp_path):
    import json
    import zipfile

    client, ids, queue, network = network_app
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE review_queue SET status = 'decided' WHERE id = %s", (queue["cm"],))
        cur.execute("""INSERT INTO review_decisions (queue_id, listing_id, decision, product_group, decided_by)
                       VALUES (%s, %s, 'confirmed', 'ivory', 'amina')""", (queue["cm"], ids["cm"]))
        accounts.add_user(conn, "chloe", "supervisor", "another long secret")
    page = client.get(f"/network/{network}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert "Refer this network" not in page  # analysts do not refer
    assert client.post(f"/network/{network}/referral", data={"csrf_token": token, "agency": "Police", "country": "TZ"},
                       follow_redirects=False).status_code == 403
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "chloe", "another long secret")
    page = client.get(f"/network/{network}").text
    assert "Refer this network" in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    made = client.post(f"/network/{network}/referral", data={"csrf_token": token, "agency": "Tanzania Police",
                                                              "country": "tz"}, follow_redirects=False)
    assert made.status_code == 303
    referral = int(made.headers["location"].rsplit("/", 1)[1])
    package = client.get(f"/referrals/{referral}/package")
    assert package.status_code == 200
    with zipfile.ZipFile(io.BytesIO(package.content)) as zf:
        names = zf.namelist()
        doc = json.loads(zf.read(f"referral-{referral}/network.json"))
        items = json.loads(zf.read(f"referral-{referral}/items.json"))
    assert [i["listing_url"] for i in items["items"]] == ["http://y/2"]  # the confirmed offer is the item
    assert {m["listing"] for m in doc["members"]} == {ids["tz"], ids["cm"], ids["cm2"]}  # the whole network
    assert any("same WhatsApp +255712345678" in link["reason"] for link in doc["links"])
    assert {c["value"] for c in doc["contacts"]} == {"+255712345678"}
    assert sum(n.startswith(f"referral-{referral}/photos/") for n in names) == 2
    assert f"referral-{referral}/MANIFEST.sha256" in names
    with conn.cursor() as cur:
        cur.execute("SELECT action, after->>'network' FROM audit_log WHERE entity = 'referral' ORDER BY id")
        actions = cur.fetchall()
    assert ("referral_create", str(network)) in actions and ("export", None) in actions
