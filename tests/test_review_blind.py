"""Blind reviews stay blind. A second reviewer walks every page they can reach (queue, item, linked offers,
network, near-duplicate group, their audit trail, their decisions) while an item waits for its second review:
none names the first reviewer or says what they decided. And an analyst cannot tell an audit-sample item from
a queued one by its pages: the same fields, the same evidence, no score or threshold."""
import re

import pytest
from fastapi.testclient import TestClient

from helpers import seed_site_and_run, sign_in, store_with_contacts
from wildwatch.networks import store
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"
FIRST = "firstreviewer"


def person(app, name) -> tuple[TestClient, str]:
    c = TestClient(app)
    assert sign_in(c, name, PASSWORD, follow_redirects=False).status_code == 303
    return c, re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)


@pytest.fixture
def second_review(conn, database_url, tmp_path):
    with conn, conn.cursor() as cur:
        tz, run = seed_site_and_run(cur, "demo_tz", "TZ", "sw")
    a = store_with_contacts(conn, tz, run, "http://x/1", "Pembe za ndovu", "simu: 0712 345 678", "Juma", "/u/1",
                            queue=True)
    b = store_with_contacts(conn, tz, run, "http://x/2", "Pembe za ndovu", "simu: 0712 345 678", "Juma", "/u/1",
                            queue=True)
    store.rebuild(conn)
    with conn:
        for name in (FIRST, "bao"):
            accounts.add_user(conn, name, "analyst", PASSWORD)
    app = create_app(ReviewSettings(secret_key="b" * 40, database_url=database_url, second_review=True,
                                    evidence_dir=tmp_path / "evidence"))
    first, token = person(app, FIRST)
    decided = []
    item = first.post("/next", data={"csrf_token": token}, follow_redirects=False).headers["location"]
    for _ in range(2):  # the first reviewer confirms both listings of the network (deciding opens the next)
        done = first.post(f"{item}/decide", data={"csrf_token": token, "decision": "confirmed",
                                                  "product_group": "ivory"}, follow_redirects=False)
        decided.append(int(item.rsplit("/", 1)[1]))
        item = done.headers["location"]
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT network_id FROM network_members")
        (network,), = cur.fetchall()
    return app, decided, network, (a, b)


def test_nothing_a_second_reviewer_can_open_reveals_the_first_decision(second_review):
    app, items, network, _ = second_review
    bao, token = person(app, "bao")
    opened = bao.post("/next", data={"csrf_token": token}, follow_redirects=False).headers["location"]
    assert int(opened.rsplit("/", 1)[1]) in items
    pages = {
        "queue": bao.get("/"), "item": bao.get(opened),
        "other item": bao.get(f"/item/{[i for i in items if f'/item/{i}' != opened][0]}"),
        "network": bao.get(f"/network/{network}"), "networks": bao.get("/networks"),
        "group": bao.get(f"/group?ids={','.join(map(str, items))}"), "audit": bao.get("/audit"),
        "audit claims": bao.get("/audit?action=claim"), "mine": bao.get("/mine"),
    }
    for name, response in pages.items():
        assert response.status_code in (200, 403), (name, response.status_code)
        # The page's own controls name the decisions (the shortcut help, the decide buttons): not a leak.
        text = re.sub(r'<dialog.*?</dialog>|<form method="post" action="/item/\d+/decide".*?</form>'
                      r'|<p class="legend">.*?</p>|<th>[^<]*</th>|<button[^>]*>[^<]*</button>', "", response.text,
                      flags=re.S)
        assert FIRST not in text, f"{name} names the first reviewer"
        assert not re.search(r"\bconfirmed\b", text), f"{name} shows the first decision"
        assert "second review" not in text and "second_review" not in text, f"{name} shows the status"


def test_analysts_see_no_score_or_threshold_and_audit_items_look_like_queued_ones(conn, database_url, tmp_path):
    with conn, conn.cursor() as cur:
        tz, run = seed_site_and_run(cur, "demo_tz", "TZ", "sw")
        for i, (score, reason) in enumerate(((3.0, "keywords"), (0.5, "audit"))):
            cur.execute("""INSERT INTO listings (site_id, url, title, description, score, score_reasons)
                           VALUES (%s, %s, 'Bangili ya pembe', 'bei nafuu', %s, %s) RETURNING id""",
                        (tz, f"http://x/{i}", score, '["+%.1f product ivory"]' % score))
            listing = cur.fetchone()[0]
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority, reason) VALUES (%s, %s, 1, %s)",
                        (listing, run, reason))
            cur.execute("""INSERT INTO evidence (listing_id, run_id, kind, sha256, size_bytes, media_type, page_url,
                                                 crawler_version)
                           VALUES (%s, %s, 'warc', repeat(%s, 64), 1, 'application/warc', %s, 'wildwatch/test')""",
                        (listing, run, str(i), f"http://x/{i}"))
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
        accounts.add_user(conn, "sam", "supervisor", PASSWORD)
    app = create_app(ReviewSettings(secret_key="c" * 40, database_url=database_url, evidence_dir=tmp_path))
    amina, _ = person(app, "amina")

    def fields(html: str) -> list[str]:
        """The page's structure: element names, ids, classes and headings, with the listing's own values out."""
        html = re.sub(r"/(item|evidence|photo)/\d+", r"/\1/N", html)
        html = re.sub(r"http://x/\d", "URL", html)
        html = re.sub(r"SHA-256 <code>\w+</code>", "SHA", html)
        return re.findall(r"<[^>]+>|[^<>]+", html)

    queued, audited = amina.get("/item/1").text, amina.get("/item/2").text
    assert fields(queued) == fields(audited)
    for page in (queued, audited, amina.get("/").text):
        assert "score" not in page.lower().replace("what pushed the score most", "") and "queues from" not in page
        assert not re.search(r"[+-]\d+\.\d", page)
    assert "keyword score" not in amina.get("/?sort=keywords").text
    sam, _ = person(app, "sam")
    assert "(score 3.0)" in sam.get("/item/1").text and "(score 0.5)" in sam.get("/item/2").text
