"""The analyst's flow in the review app: undo, letting go of items one walks away from, keyboard help."""
# ruff: noqa: F811 - app_client is test_review_app's fixture, imported for these tests
import pytest
from fastapi.testclient import TestClient

from test_review_app import app_client, csrf_of, login  # noqa: F401
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings
from helpers import sign_in


def add_items(conn, n: int) -> None:
    """n more queue items on the fixture's site and run, below its first item's priority."""
    with conn, conn.cursor() as cur:
        for i in range(n):
            cur.execute("INSERT INTO listings (site_id, url, title, score) VALUES (1, %s, %s, 3) RETURNING id",
                        (f"http://x/{i}", f"Pembe {i}"))
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, 1, %s)",
                        (cur.fetchone()[0], 2 - i * 0.1))


def states(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, status, claimed_by FROM review_queue ORDER BY id")
        return cur.fetchall()


def actions(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT action FROM audit_log WHERE action <> 'user_add' ORDER BY id")
        return [a for (a,) in cur.fetchall()]


def test_an_analyst_undoes_the_last_decision_within_the_window_and_the_audit_keeps_both(app_client, conn):
    add_items(conn, 1)
    login(app_client)
    token = csrf_of(app_client)
    app_client.post("/next", data={"csrf_token": token})
    done = app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "not_wildlife"},
                           follow_redirects=False)
    assert done.headers["location"] == "/item/2"
    page = app_client.get("/item/2").text
    assert 'action="/item/1/undo"' in page and "Undo (u, " in page
    assert 'action="/item/1/undo"' not in app_client.get("/item/2").text, "offered once, on the next page"

    undone = app_client.post("/item/1/undo", data={"csrf_token": token}, follow_redirects=False)
    assert undone.headers["location"] == "/item/1"
    page = app_client.get("/item/1").text
    assert "Undone: your decision on item 1 (not wildlife) is withdrawn." in page and 'data-key="1"' in page
    assert states(conn) == [(1, "claimed", "amina"), (2, "pending", None)], "item 2 let go, item 1 held again"
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM review_decisions")
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT before->>'decision' FROM audit_log WHERE action = 'undo'")
        assert cur.fetchone() == ("not_wildlife",)
    assert actions(conn) == ["claim", "decide", "claim", "release", "undo"]

    # Decided again; an undo of anything but the latest decision is refused, as is a second undo.
    app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed"})
    app_client.post("/item/2/decide", data={"csrf_token": token, "decision": "legal"})
    refused = app_client.post("/item/1/undo", data={"csrf_token": token})
    assert "Not undone: only your latest decision can be undone" in refused.text
    with conn.cursor() as cur:
        cur.execute("SELECT queue_id, decision FROM review_decisions ORDER BY id")
        assert cur.fetchall() == [(1, "confirmed"), (2, "legal")]


def test_an_undo_after_the_window_is_refused(conn, database_url, app_client):
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url, undo_s=0)))
    login(client)
    token = csrf_of(client)
    client.post("/next", data={"csrf_token": token})
    client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed"})
    refused = client.post("/item/1/undo", data={"csrf_token": token})
    assert "Not undone: the 0 s to undo the decision on item 1 have passed" in refused.text
    assert states(conn) == [(1, "decided", "amina")]


def test_after_the_window_no_undo_is_offered_and_a_late_press_keeps_the_analyst_on_their_item(conn, database_url,
                                                                                              app_client):
    import re
    import time

    add_items(conn, 1)
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url, undo_s=2)))
    login(client)
    token = csrf_of(client)
    client.post("/next", data={"csrf_token": token})
    done = client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed"}, follow_redirects=False)
    assert done.headers["location"] == "/item/2"
    page = client.get("/item/2").text  # within the window: offered, with the seconds left for the page to drop it
    assert re.search(r'action="/item/1/undo" class="inline" data-expires-in="[12]"', page)
    assert '<input type="hidden" name="back" value="/item/2">' in page
    time.sleep(2.1)
    late = client.post("/item/1/undo", data={"csrf_token": token, "back": "/item/2"}, follow_redirects=False)
    assert late.headers["location"] == "/item/2", "the analyst stays on the item they hold"
    page = client.get("/item/2").text
    assert '<p class="flash error" role="alert">Not undone: the 2 s to undo' in page
    assert states(conn) == [(1, "decided", "amina"), (2, "claimed", "amina")], "nothing let go"
    # a flash after the window never carries the button
    client.post("/item/2/decide", data={"csrf_token": token, "decision": "legal"}, follow_redirects=False)
    time.sleep(2.1)
    assert "/item/2/undo" not in client.get("/").text
    assert client.post("/item/1/undo", data={"csrf_token": token, "back": "https://evil.example/"},
                       follow_redirects=False).headers["location"] == "/"


def test_items_one_walks_away_from_are_let_go_at_once(app_client, conn):
    add_items(conn, 2)
    login(app_client)
    token = csrf_of(app_client)
    app_client.post("/next", data={"csrf_token": token})
    app_client.get("/")  # a GET changes nothing (an <img> on another site could send one)
    assert states(conn)[0] == (1, "claimed", "amina")
    app_client.post("/item/1/release", data={"csrf_token": token})  # the item page's beacon, back on the queue
    assert states(conn)[0] == (1, "pending", None)

    app_client.post("/next", data={"csrf_token": token})
    skipped = app_client.post("/next", data={"csrf_token": token}, follow_redirects=False)  # "n" on an item
    assert skipped.headers["location"] == "/item/2"
    assert states(conn)[:2] == [(1, "pending", None), (2, "claimed", "amina")]

    assert app_client.post("/item/2/release", data={"csrf_token": token}).status_code == 204  # a link followed
    assert states(conn)[1] == (2, "pending", None)
    assert app_client.post("/item/2/release", data={}).status_code == 403  # CSRF, as every POST

    app_client.post("/next", data={"csrf_token": token})
    app_client.post("/logout", data={"csrf_token": token})
    assert all(status == "pending" for _, status, _ in states(conn))
    assert actions(conn).count("release") == 4


@pytest.mark.browser
def test_question_mark_shows_the_shortcuts_and_a_link_away_lets_the_item_go_in_chromium(app_client, conn):
    from playwright.sync_api import sync_playwright

    from helpers import browser_login, served
    from spiders.browser import CHROMIUM_ARGS, chromium_path

    with conn, conn.cursor() as cur:
        cur.execute("UPDATE listings SET description = %s", ("Pembe halisi, bei nafuu. " * 300,))
    errors = []
    with served(app_client.app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.on("pageerror", lambda e: errors.append(str(e)))
        browser_login(page, base, "amina", "correct horse battery")
        page.keyboard.press("n")
        page.wait_for_url(base + "/item/1")
        assert not page.locator("#help").is_visible()
        page.keyboard.press("?")
        assert page.locator("#help").is_visible()
        assert "undo your last decision" in page.locator("#help").inner_text()
        page.keyboard.press("Escape")
        assert not page.locator("#help").is_visible()
        # The decision controls in view without scrolling at 1366x768 (a long description included).
        for selector in ('#decide button[data-key="4"]', '#decide input[name="product_group"]',
                         '#decide input[name="species"]', '#decide textarea[name="note"]'):
            box = page.locator(selector).bounding_box()
            assert box and 0 <= box["y"] and box["y"] + box["height"] <= 768, (selector, box)
        page.click("text=Audit")
        page.wait_for_url(base + "/audit")
        for _ in range(50):
            if states(conn)[0][1] == "pending":
                break
            page.wait_for_timeout(100)
        browser.close()
    assert states(conn)[0] == (1, "pending", None)
    assert errors == []


def test_search_value_lists_progress_and_my_decisions(app_client, conn):
    add_items(conn, 3)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE listings SET seller = 'Mzee Juma 100%' WHERE title = 'Pembe 1'")
    login(app_client)
    page = app_client.get("/").text
    assert "4 left in your filter · 0 decided today" in page
    # Filters are lists of what the data holds, not free text.
    assert '<option value="demo_tz">demo_tz</option>' in page and '<option value="TZ">TZ</option>' in page
    assert '<option value="ivory">' in page and '<option value="2026-11">2026-11</option>' in page
    # Text search over title, description and seller; LIKE wildcards in it are literal.
    found = app_client.get("/?q=juma 100%").text
    assert "Pembe 1" in found and "Pembe 0" not in found and "1 left in your filter" in found
    assert "Nothing waits" in app_client.get("/?q=juma 100_").text
    assert "Carved ivory bangle" in app_client.get("/?q=ELEPHANT").text  # the description, any case
    # "Next item" follows the search too.
    app_client.get("/?q=mzee")
    token = csrf_of(app_client)
    assert app_client.post("/next", data={"csrf_token": token}, follow_redirects=False).headers[
        "location"] == "/item/3"
    app_client.post("/item/3/decide", data={"csrf_token": token, "decision": "legal", "note": "ceramic"})
    mine = app_client.get("/mine").text
    assert "1 decided today · 0 left in your filter" in mine
    assert "Pembe 1" in mine and "legal" in mine and "ceramic" in mine


def test_the_demo_near_duplicates_group_and_the_rest_stay_apart():
    from wildwatch.review import neardup

    titles = ["Vòng ngà voi thật", "Nhẫn nga voi chuan", "Vòng ngà voi thật hàng đẹp", "象牙雕刻观音摆件",
              "Vòng ngà voi thật giá tốt", "象牙雕刻观音摆件 精品", "Vòng ngà voi Châu Phi", "Xe máy Honda Wave",
              "Perroquet gris du Gabon jeune", "Perroquet gris du Gabon jeune prix à débattre", "熊胆粉 正品 精品"]
    groups = [[r["title"] for r in g] for g in neardup.group([{"title": t} for t in titles])]
    assert groups == [["Vòng ngà voi thật", "Vòng ngà voi thật hàng đẹp", "Vòng ngà voi thật giá tốt"],
                      ["Nhẫn nga voi chuan"], ["象牙雕刻观音摆件", "象牙雕刻观音摆件 精品"], ["Vòng ngà voi Châu Phi"],
                      ["Xe máy Honda Wave"], ["Perroquet gris du Gabon jeune",
                                              "Perroquet gris du Gabon jeune prix à débattre"], ["熊胆粉 正品 精品"]]
    # Different titles with the same photo (a re-post, re-encoded: a few bits apart) are one offer too.
    photo = [{"title": "Ivory bangle", "phashes": [0x0F0F_0F0F_0F0F_0F0F]},
             {"title": "Bracelet ancien", "phashes": [0x0F0F_0F0F_0F0F_0F0E]},
             {"title": "Old bracelet", "phashes": [0x7777_0000_7777_0000]}]
    assert [len(g) for g in neardup.group(photo)] == [2, 1]


def test_one_decision_for_a_group_of_near_identical_offers_gives_each_its_own(app_client, conn):
    with conn, conn.cursor() as cur:
        for title, priority in (("Vòng ngà voi thật", 2), ("Vòng ngà voi thật hàng đẹp", 1.9),
                                ("Vòng ngà voi thật giá tốt", 1.8)):
            cur.execute("INSERT INTO listings (site_id, url, title, score) VALUES (1, %s, %s, 3) RETURNING id",
                        (f"http://x/{priority}", title))
            listing = cur.fetchone()[0]
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, 1, %s)",
                        (listing, priority))
            cur.execute("""INSERT INTO keyword_matches (listing_id, term, product_group, kind, field, span_start,
                           span_end, matched_text) VALUES (%s, 'ngà voi', 'ivory', 'product', 'title', 5, 12, 'ngà voi')""",
                        (listing,))
    login(app_client)
    page = app_client.get("/").text
    assert "3 near-identical offers" in page and 'href="/group?ids=2,3,4"' in page
    group = app_client.get("/group?ids=2,3,4").text
    assert all(t in group for t in ("Vòng ngà voi thật hàng đẹp", "Vòng ngà voi thật giá tốt", "confirmed (all 3)"))
    # as on an item page: the product group the keywords name is filled in, and keys 1-4 press the buttons
    assert '<input name="product_group" value="ivory"' in group
    assert '<button name="decision" value="confirmed" data-key="1">1 · confirmed (all 3)</button>' in group
    # Someone else holds one of them: it is left alone.
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE review_queue SET status = 'claimed', claimed_by = 'bao', lease_expires_at = now() + "
                    "interval '10 minutes' WHERE id = 4")
    done = app_client.post("/group/decide", data={"csrf_token": csrf_of(app_client), "ids": "2,3,4",
                                                  "decision": "confirmed", "product_group": "ivory"},
                           follow_redirects=False)
    assert done.headers["location"] == "/item/1", "on to the next item, not back to the queue"
    assert "Recorded confirmed (ivory) on 2 items (2, 3). Not yours to decide, left as they were: 4." in \
        app_client.get("/item/1").text
    with conn.cursor() as cur:
        cur.execute("SELECT queue_id, decision, product_group, decided_by FROM review_decisions ORDER BY queue_id")
        assert cur.fetchall() == [(2, "confirmed", "ivory", "amina"), (3, "confirmed", "ivory", "amina")]
        cur.execute("SELECT action, entity_id FROM audit_log WHERE user_name = 'amina' AND action <> 'user_add' "
                    "ORDER BY id")
        assert cur.fetchall() == [("claim", "2"), ("decide", "2"), ("claim", "3"), ("decide", "3"), ("claim", "1")]
    assert states(conn) == [(1, "claimed", "amina"), (2, "decided", "amina"), (3, "decided", "amina"),
                            (4, "claimed", "bao")]
    assert app_client.get("/group?ids=2,x").status_code == 400


def test_a_supervisor_writes_the_months_report_again_once_decisions_are_in(app_client, conn, database_url, tmp_path):
    from wildwatch.report.build import build_report, write
    from wildwatch.review import accounts

    reports = tmp_path / "reports"
    first = build_report(conn, "2026-11")
    write(first, reports / first.label)
    assert "0 of 1 candidates decided" in (reports / "2026-11" / "report-2026-11.html").read_text()
    login(app_client)
    token = csrf_of(app_client)
    app_client.post("/next", data={"csrf_token": token})
    app_client.post("/item/1/decide", data={"csrf_token": token, "decision": "confirmed", "product_group": "ivory"})
    accounts.add_user(conn, "sam", "supervisor", "correct horse battery")
    conn.commit()
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url,
                                                  reports_dir=reports)))
    assert sign_in(client, "sam", "correct horse battery").status_code == 200
    page = client.get("/reports").text
    assert 'action="/reports/2026-11/regenerate"' in page
    done = client.post("/reports/2026-11/regenerate", data={"csrf_token": csrf_of(client)})
    assert "Report 2026-11 written again: 1 of 1 candidates decided." in done.text
    html = (reports / "2026-11" / "report-2026-11.html").read_text()
    assert "1 of 1 candidates decided" in html
    with conn.cursor() as cur:
        cur.execute("SELECT user_name, entity_id, after->>'decided' FROM audit_log WHERE action = 'report_regenerate'")
        assert cur.fetchall() == [("sam", "2026-11", "1")]
    # Analysts cannot, and nothing outside the reports folder can be named.
    assert app_client.post("/reports/2026-11/regenerate", data={"csrf_token": token}).status_code == 403
    assert client.post("/reports/..%2F..%2Fetc/regenerate", data={"csrf_token": csrf_of(client)}).status_code == 404
