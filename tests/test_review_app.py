"""The review app through FastAPI's TestClient, on a real database."""
import re

import pytest
from fastapi.testclient import TestClient

from helpers import seed_site_and_run, sign_in
from wildwatch.review import accounts, claims
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

HOSTILE = '<script>alert("x")</script> Carved ivory bangle <img src=x onerror=alert(1)>'


@pytest.fixture
def app_client(conn, database_url):
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_tz", "TZ", "en")
        cur.execute("""INSERT INTO listings (site_id, url, title, description, seller, score, score_reasons)
                       VALUES (%s, 'javascript:alert(1)', %s, 'real elephant ivory', 'Juma', 3,
                               '["+3.0 product ivory"]') RETURNING id""", (site, HOSTILE))
        listing = cur.fetchone()[0]
        start = HOSTILE.index("ivory")
        cur.execute("""INSERT INTO keyword_matches (listing_id, term, product_group, kind, field, span_start, span_end,
                       matched_text) VALUES (%s, 'ivory', 'ivory', 'product', 'title', %s, %s, 'ivory')""",
                    (listing, start, start + 5))
        cur.execute("INSERT INTO sightings (listing_id, run_id, title) VALUES (%s, %s, 't')", (listing, run))
        cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, 3)", (listing, run))
        accounts.add_user(conn, "amina", "analyst", "correct horse battery")
    app = create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url))
    return TestClient(app)


def login(client, password="correct horse battery"):
    return sign_in(client, "amina", password, follow_redirects=False)


def csrf_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def test_every_page_but_login_needs_a_session(app_client):
    app = app_client.app
    for route in app.routes:
        path = getattr(route, "path", "")
        if path in ("/login", "/healthz", "/static/{name}") or not hasattr(route, "methods"):
            continue
        url = re.sub(r"\{[a-z_]+_id\}", "1", path).replace("{name}", "review.js")
        for method in route.methods - {"HEAD"}:
            response = app_client.request(method, url, follow_redirects=False)
            assert response.status_code in (303, 401, 403), (method, path, response.status_code)
            if response.status_code == 303:
                assert response.headers["location"] == "/login"


def test_the_health_check_needs_no_login_and_names_only_the_failing_part(app_client, database_url, tmp_path):
    answer = app_client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "evidence_store": "ok"}
    from helpers import free_port

    (tmp_path / "blocked").write_text("a file where the store's folder should be")
    down = create_app(ReviewSettings(secret_key="x" * 40, evidence_dir=tmp_path / "blocked" / "evidence",
                                     database_url=f"postgresql://x:y@127.0.0.1:{free_port()}/none"))
    answer = TestClient(down).get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "failing", "database": "unreachable", "evidence_store": "unreachable"}
    import psycopg2

    with psycopg2.connect(database_url) as conn:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
    assert app_client.get("/healthz").json()["database"] == "not migrated"


def test_repeated_failed_logins_are_slowed_down(app_client):
    for _ in range(5):
        assert "Wrong name or password" in login(app_client, "not the password").text
    slowed = login(app_client)  # even the right password waits now
    assert slowed.status_code == 429 and int(slowed.headers["retry-after"]) >= 1
    assert "Too many failed logins" in slowed.text


def test_the_audit_page_shows_analysts_their_own_trail_and_supervisors_everyone(app_client, conn):
    with conn:
        accounts.add_user(conn, "sam", "supervisor", "correct horse battery")
        record_of_other = claims.claim_next(conn, "bao")
    assert record_of_other is not None
    login(app_client)
    token = csrf_of(app_client)
    mine = app_client.get("/audit").text
    assert "bao" not in mine and "<td>amina</td>" not in mine
    app_client.post("/logout", data={"csrf_token": token})
    sign_in(app_client, "sam", "correct horse battery")
    everyone = app_client.get("/audit").text
    # in words: who did what to which thing (linked), and what changed; the raw record folded away
    assert '<td>bao</td><td>took</td>' in everyone and "<td>added a user</td>" in everyone
    table = everyone.split('<table id="audit">')[1]
    assert '<a href="/item/1">queue item 1</a>' in table and "review_queue" not in table.split("<details>")[0]
    assert re.search(r"<li>status: pending → claimed</li>", everyone)
    shown = re.sub(r"<details>.*?</details>", "", everyone, flags=re.S)
    assert "{&#34;" not in shown and '{"' not in shown, "no JSON outside the folded record"


def test_the_login_page_is_styled_and_only_the_apps_own_static_files_are_public(app_client):
    assert '<link rel="stylesheet" href="/static/review.css">' in app_client.get("/login").text
    css = app_client.get("/static/review.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert app_client.get("/static/../settings.py").status_code == 404
    assert app_client.get("/static/app.py").status_code == 404


def test_login_logout_and_wrong_password(app_client):
    assert "Wrong name or password" in login(app_client, "not the password").text
    assert login(app_client).status_code == 303
    assert app_client.get("/").status_code == 200
    out = app_client.post("/logout", data={"csrf_token": csrf_of(app_client)}, follow_redirects=False)
    assert out.status_code == 303 and app_client.get("/", follow_redirects=False).status_code == 303


def test_hostile_listing_text_is_escaped_and_the_policy_forbids_inline_script(app_client):
    login(app_client)
    page = app_client.get("/item/1")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert '<mark title="ivory">ivory</mark>' in page.text
    assert "javascript:alert" not in page.text  # a non-http listing URL is never made a link
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"


def test_claim_decide_with_csrf(app_client, conn):
    login(app_client)
    token = csrf_of(app_client)
    assert app_client.post("/next", data={}, follow_redirects=False).status_code == 403  # no CSRF token
    claimed = app_client.post("/next", data={"csrf_token": token}, follow_redirects=False)
    assert claimed.headers["location"] == "/item/1"
    page = app_client.get("/item/1").text
    assert 'data-key="1"' in page and "confirmed" in page
    done = app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed",
                                                  "product_group": "ivory", "note": "carved, not resin"},
                           follow_redirects=False)
    assert done.status_code == 303
    with conn.cursor() as cur:
        cur.execute("SELECT decision, decided_by, note FROM review_decisions")
        assert cur.fetchone() == ("confirmed", "amina", "carved, not resin")
        cur.execute("SELECT action FROM audit_log ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["user_add", "claim", "decide"]
    assert done.headers["location"] == "/"  # nothing else waits
    assert "Recorded on item 1: confirmed (ivory). Nothing left to review in your filter." in app_client.get("/").text
    # A second press (a double click, a key held) changes nothing and says so: no error page.
    again = app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "legal"}, follow_redirects=False)
    assert again.status_code == 303
    assert "Item 1 was already decided: confirmed. Nothing changed." in app_client.get("/").text
    assert "You decided: <strong>confirmed</strong> (status decided)" in app_client.get("/item/1").text
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM review_decisions")
        assert cur.fetchone()[0] == 1
    # Deciding on an item one never held is refused with a page that says why.
    accounts.add_user(conn, "baraka", "analyst", "correct horse battery")
    conn.commit()
    app_client.post("/logout", data={"csrf_token": token})
    sign_in(app_client, "baraka", "correct horse battery")
    refused = app_client.post("/item/1/decide", data={"csrf_token": csrf_of(app_client), "decision": "legal"})
    assert refused.status_code == 409 and "<h1>Not recorded</h1>" in refused.text and "not held by baraka" in refused.text


def test_not_wildlife_is_stored_without_the_pre_filled_product_group(app_client, conn):
    login(app_client)
    token = csrf_of(app_client)
    app_client.post("/next", data={"csrf_token": token})
    app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "not_wildlife",
                                            "product_group": "big_cats", "species": "Panthera tigris"},
                    follow_redirects=False)
    with conn.cursor() as cur:
        cur.execute("SELECT decision, product_group, species FROM review_decisions")
        assert cur.fetchall() == [("not_wildlife", None, None)]
        cur.execute("SELECT after->>'product_group' FROM audit_log WHERE action = 'decide'")
        assert cur.fetchone() == (None,)
    flash = re.search(r'<p class="flash"[^>]*>([^<]*)', app_client.get("/").text).group(1)
    assert flash.strip() == "Recorded on item 1: not wildlife. Nothing left to review in your filter."


def test_sightings_read_one_line_per_survey_month_and_price(app_client, conn):
    with conn, conn.cursor() as cur:  # the fixture's run saw it once; four more runs the same day, a new price
        for n, (period, price) in enumerate([("2026-11-01", None)] * 3 + [("2026-12-01", 120), ("2026-12-01", 90)]):
            cur.execute("INSERT INTO crawl_runs (run_key, kind, period) VALUES (%s, 'monthly', %s) RETURNING id",
                        (f"again-{n}", period))
            cur.execute("""INSERT INTO sightings (listing_id, run_id, title, price, currency, seen_at)
                           VALUES (1, %s, 't', %s, 'USD', %s)""",
                        (cur.fetchone()[0], price, "2026-12-06 10:00Z" if period == "2026-12-01" else "2026-11-06 10:00Z"))
        cur.execute("UPDATE sightings SET seen_at = '2026-11-06 09:00Z' WHERE run_id = 1")
    login(app_client)
    app_client.post("/next", data={"csrf_token": csrf_of(app_client)})
    page = app_client.get("/item/1").text
    lines = re.findall(r"<li>(\d{4}-\d{2} survey: [^<]*)</li>", page)
    assert len(lines) == 3, lines
    assert lines[0].startswith("2026-11 survey: seen 2026-11-06 (4 runs)")
    assert [line.split(",")[0] for line in lines[1:]] == ["2026-12 survey: seen 2026-12-06"] * 2
    assert lines[1].endswith("120") and lines[2].endswith("90")


def test_deciding_moves_on_to_the_next_item_of_the_analysts_filter(app_client, conn):
    """A language desk filtered to Tanzania: "Next item" and each decision hand out Tanzanian items only, the
    next one at once with a line saying what was recorded, until none is left."""
    with conn, conn.cursor() as cur:
        tz, run = 1, 1
        cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES ('demo_cm', 'CM', '{fr}', 'http://x')"
                    " RETURNING id")
        cm = cur.fetchone()[0]
        for site, title, priority in ((cm, "Ivoire brut", 9), (tz, "Pembe za ndovu", 2), (cm, "Défense", 8)):
            cur.execute("""INSERT INTO listings (site_id, url, title, score) VALUES (%s, %s, %s, 3)
                           RETURNING id""", (site, f"http://x/{title}", title))
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, %s)",
                        (cur.fetchone()[0], run, priority))
    login(app_client)
    app_client.get("/?country=tz")  # the filter sticks for "Next item"
    token = csrf_of(app_client)
    first = app_client.post("/next", data={"csrf_token": token}, follow_redirects=False)
    assert first.headers["location"] == "/item/1"  # priority 3, Tanzanian; the Cameroon items rank higher
    second = app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed"},
                             follow_redirects=False)
    assert second.headers["location"] == "/item/3"  # the other Tanzanian item, claimed for this analyst
    page = app_client.get("/item/3").text
    assert "Recorded on item 1: confirmed." in page and 'data-key="1"' in page
    last = app_client.post("/item/3/decide", data={"csrf_token": token, "decision": "not_wildlife"},
                           follow_redirects=False)
    assert last.headers["location"] == "/"
    assert "Nothing left to review in your filter." in app_client.get("/?country=TZ").text
    with conn.cursor() as cur:
        cur.execute("""SELECT s.country, q.status FROM review_queue q JOIN listings l ON l.id = q.listing_id
                       JOIN sites s ON s.id = l.site_id ORDER BY q.id""")
        assert cur.fetchall() == [("TZ", "decided"), ("CM", "pending"), ("TZ", "decided"), ("CM", "pending")]


@pytest.mark.browser
def test_keyboard_shortcuts_in_chromium(app_client, database_url, conn):
    """The real page in a real Chromium: log in, "n" claims the next item, "1" confirms it; no console errors."""
    from playwright.sync_api import sync_playwright

    from helpers import browser_login, served
    from spiders.browser import CHROMIUM_ARGS, chromium_path

    errors = []
    with served(app_client.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        browser_login(page, base, "amina", "correct horse battery")
        page.keyboard.press("n")
        page.wait_for_url(base + "/item/1")
        assert page.locator("mark").first.inner_text() == "ivory"
        page.keyboard.press("1")
        page.wait_for_url(base + "/")
        page.click("text=Audit")
        page.wait_for_url(base + "/audit")
        assert page.locator("#audit tr:nth-child(2) td:nth-child(3)").inner_text() == "decided"
        assert "decision: confirmed" in page.locator("#audit tr:nth-child(2) ul.changes").inner_text()
        browser.close()
    with conn.cursor() as cur:
        cur.execute("SELECT decision FROM review_decisions")
        assert cur.fetchone() == ("confirmed",)
    assert errors == []


def test_supervisors_export_confirmed_offers_safely(app_client, conn):
    import csv
    import io
    import json

    with conn, conn.cursor() as cur:
        cur.execute("UPDATE listings SET seller = '=HYPERLINK(\"http://evil\")'")
        accounts.add_user(conn, "chloe", "supervisor", "another long secret")
    login(app_client)
    token = csrf_of(app_client)
    app_client.post("/next", data={"csrf_token": token})
    app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed", "product_group": "ivory"})
    assert app_client.get("/export").status_code == 403  # analysts do not export
    app_client.post("/logout", data={"csrf_token": token})
    sign_in(app_client, "chloe", "another long secret")
    got = app_client.get("/export?format=csv&month=2026-11&country=TZ")
    assert got.status_code == 200 and got.headers["content-disposition"].endswith('2026-11.csv"')
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert len(rows) == 1 and rows[0]["product_group"] == "ivory" and rows[0]["survey_month"] == "2026-11"
    assert rows[0]["seller"].startswith("'=")  # a formula is written as text
    assert json.loads(app_client.get("/export?format=json&month=2026-10").text) == []
    assert app_client.get("/export?month=Nov").status_code == 400
    with conn.cursor() as cur:
        cur.execute("SELECT user_name, after->>'rows' FROM audit_log WHERE action = 'export' ORDER BY id")
        assert cur.fetchall() == [("chloe", "1"), ("chloe", "0")]


def test_the_queue_filters_by_country_site_group_language_and_month(app_client, conn):
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE listings SET language = 'sw'")
    login(app_client)
    shown = lambda query: "Carved ivory bangle" in app_client.get("/?" + query).text  # noqa: E731
    assert shown("country=tz") and shown("site=demo_tz") and shown("group=ivory") and shown("language=sw")
    assert shown("month=2026-11")
    assert not shown("country=VN") and not shown("group=pangolin") and not shown("language=zh")
    assert not shown("month=2026-10")


@pytest.mark.browser
def test_in_chromium_a_second_analyst_never_gets_a_claimed_item_and_hostile_titles_stay_text(app_client, conn):
    from playwright.sync_api import sync_playwright

    from helpers import browser_login, served
    from spiders.browser import CHROMIUM_ARGS, chromium_path

    with conn, conn.cursor() as cur:
        accounts.add_user(conn, "bao", "analyst", "correct horse battery")
        cur.execute("""INSERT INTO listings (site_id, url, title, score) SELECT site_id, 'http://x/2', 'Rhino horn cup', 2
                       FROM listings LIMIT 1 RETURNING id""")
        cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) SELECT %s, run_id, 2 FROM review_queue",
                    (cur.fetchone()[0],))
    dialogs, errors = [], []
    with served(app_client.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        pages = {}
        for name in ("amina", "bao"):
            page = browser.new_context().new_page()  # separate cookies: two people
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: errors.append(str(e)))
            browser_login(page, base, name, "correct horse battery")
            pages[name] = page
        pages["amina"].keyboard.press("n")
        pages["amina"].wait_for_url(base + "/item/1")
        assert pages["amina"].locator("h1").inner_text() == HOSTILE, "the title is shown as text"
        assert pages["amina"].locator("img[src=x]").count() == 0
        pages["bao"].keyboard.press("n")
        pages["bao"].wait_for_url(base + "/item/2")  # not amina's item 1, though it scores higher
        pages["bao"].keyboard.press("n")  # holding item 2 already: nothing else is left for bao
        pages["bao"].wait_for_url(base + "/")
        assert pages["bao"].locator(".flash").inner_text() == "Nothing left to review in your filter."
        pages["amina"].wait_for_timeout(300)
        browser.close()
    assert dialogs == [] and errors == []
