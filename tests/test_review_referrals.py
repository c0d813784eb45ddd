"""Review app: the archived page in a sandboxed frame, and the supervisors' referral pages."""
import io
import re
import zipfile

import pytest
from fastapi.testclient import TestClient

from helpers import browser_login, seed_site_and_run, served, sign_in
from wildwatch.evidence import warc
from wildwatch.evidence.store import LocalEvidenceStore
from wildwatch.review import accounts, claims
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"
HOSTILE_PAGE = (b"<html><body><h1 id=t>Carved ivory bangle</h1>"
                b"<script>fetch('/pwned-fetch'); top.location='/pwned-nav'</script>"
                b"<img src='/pwned-img' onerror=\"fetch('/pwned-onerror')\"></body></html>")


@pytest.fixture
def seeded(conn, database_url, tmp_path):
    store = LocalEvidenceStore(tmp_path / "evidence")
    page = warc.PageCapture(url="http://127.0.0.1:1/item/tz0001", status=200,
                            headers=[("Content-Type", "text/html; charset=utf-8")], body=HOSTILE_PAGE)
    sha = store.put(warc.build(page))
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_tz", "TZ", "en")
        cur.execute("""INSERT INTO listings (site_id, url, title, seller, score) VALUES
                       (%s, 'http://127.0.0.1:1/item/tz0001', 'Carved ivory bangle', 'Juma', 3) RETURNING id""", (site,))
        listing = cur.fetchone()[0]
        cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, 3)", (listing, run))
        cur.execute("""INSERT INTO evidence (listing_id, run_id, kind, sha256, size_bytes, media_type, page_url,
                                             crawler_version) VALUES (%s, %s, 'warc', %s, 1, 'application/warc',
                                             'http://127.0.0.1:1/item/tz0001', 'wildwatch/test')""", (listing, run, sha))
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
        accounts.add_user(conn, "sam", "supervisor", PASSWORD)
        accounts.add_user(conn, "lea", "supervisor", PASSWORD)
    app = create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url, evidence_dir=tmp_path / "evidence",
                                    referrals_dir=tmp_path / "referrals"))
    return app


def client_for(app, name) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, name, PASSWORD, follow_redirects=False).status_code == 303
    return client


def csrf_of(client) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)


def test_the_archived_page_is_served_sandboxed_and_framed_without_scripts(seeded):
    client = client_for(seeded, "amina")
    item = client.get("/item/1").text
    frame = re.search(r"<iframe[^>]*>", item).group(0)
    assert " sandbox " in frame and 'src="/evidence/1"' in frame
    archived = client.get("/evidence/1")
    assert archived.status_code == 200 and archived.content == HOSTILE_PAGE
    policy = archived.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script-src" not in policy
    assert TestClient(seeded).get("/evidence/1", follow_redirects=False).status_code == 303, "login first"


@pytest.mark.parametrize("headers, body, charset", [
    ([("Content-Type", "text/html; charset=windows-1252")], "<p>Défense d'éléphant</p>", "windows-1252"),
    ([("Content-Type", "text/html")], '<meta charset="iso-8859-1"><p>Défense d\'éléphant</p>', "iso-8859-1"),
    ([("Content-Type", "text/html")], "<p>Défense d'éléphant</p>", None),
])
def test_an_archived_page_is_served_in_the_charset_it_was_captured_with(seeded, conn, tmp_path, headers, body,
                                                                        charset):
    raw = body.encode("cp1252")
    store = LocalEvidenceStore(tmp_path / "evidence")
    sha = store.put(warc.build(warc.PageCapture(url="http://127.0.0.1:1/item/tz0001", status=200, headers=headers,
                                                body=raw)))
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE evidence SET sha256 = %s WHERE id = 1", (sha,))
    shown = client_for(seeded, "amina").get("/evidence/1")
    assert shown.content == raw  # the bytes as captured, never re-encoded
    declared = shown.headers["content-type"]
    assert declared == (f"text/html; charset={charset}" if charset else "text/html")
    if charset:
        assert "Défense d'éléphant" in raw.decode(charset)


def test_an_archived_json_answer_is_shown_indented_and_escaped(seeded, conn, tmp_path):
    # A JSON site's evidence is its answer's bytes; analysts read it as text, never as markup.
    answer = '{"ad": {"subject": "Vòng ngà voi <script>alert(1)</script>", "body": "&lt;b&gt; Zalo 0912"}}'.encode()
    store = LocalEvidenceStore(tmp_path / "evidence")
    page = warc.PageCapture(url="http://127.0.0.1:1/v1/ads/100001", status=200,
                            headers=[("Content-Type", "application/json; charset=utf-8")], body=answer)
    sha = store.put(warc.build(page))
    assert warc.read_response(store.get(sha))[2] == answer, "the archive keeps the bytes as received"
    with conn, conn.cursor() as cur:
        cur.execute("""UPDATE evidence SET sha256 = %s, page_url = 'http://127.0.0.1:1/v1/ads/100001'
                       WHERE id = 1 RETURNING id""", (sha,))
        evidence_id = cur.fetchone()[0]
    shown = client_for(seeded, "amina").get(f"/evidence/{evidence_id}")
    assert shown.status_code == 200 and shown.headers["content-security-policy"].startswith("sandbox;")
    text = shown.text.replace("&quot;", '"')
    assert '"subject": "Vòng ngà voi &lt;script&gt;alert(1)&lt;/script&gt;"' in text and "<script>" not in text
    assert "&amp;lt;b&amp;gt;" in text and '\n  "ad": {' in text


@pytest.mark.browser
def test_in_chromium_the_archived_page_shows_and_its_scripts_never_run(seeded):
    from playwright.sync_api import sync_playwright

    from spiders.browser import CHROMIUM_ARGS, chromium_path

    requested, reached = [], []
    with served(seeded) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("request", lambda r: requested.append(r.url))
        page.on("requestfinished", lambda r: reached.append(r.url))
        browser_login(page, base, "amina", PASSWORD)
        page.goto(base + "/item/1")
        frame = page.frame_locator("iframe.evidence")
        assert frame.locator("#t").inner_text(timeout=10_000) == "Carved ivory bangle"
        page.wait_for_timeout(500)
        assert page.url == base + "/item/1", "the framed page could not navigate us away"
        browser.close()
    # Scripts never ran (nothing they would fetch was even attempted); the image was refused by the policy.
    assert not [u for u in requested if "pwned" in u and "pwned-img" not in u], requested
    assert not [u for u in reached if "pwned" in u], reached


def test_supervisors_build_approve_send_and_download_a_referral(seeded, conn):
    with conn:
        item = claims.claim_next(conn, "amina")
        claims.decide(conn, item["queue_id"], "amina", "confirmed", "ivory", "Loxodonta africana")
    analyst = client_for(seeded, "amina")
    assert analyst.get("/referrals").status_code == 403
    sam = client_for(seeded, "sam")
    token = csrf_of(sam)
    made = sam.post("/referrals", data={"csrf_token": token, "recipient_kind": "platform", "recipient": "demo_tz",
                                        "month": "2026-11"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/referrals/1"
    page = sam.get("/referrals/1").text
    assert "Carved ivory bangle" in page and ">draft<" in page and "another supervisor approves it" in page
    # Four eyes: the supervisor who built it cannot approve it alone.
    assert sam.post("/referrals/1/status", data={"csrf_token": token, "status": "approved"}).status_code == 409
    lea = client_for(seeded, "lea")
    assert lea.post("/referrals/1/status", data={"csrf_token": csrf_of(lea), "status": "approved"},
                    follow_redirects=False).status_code == 303
    assert sam.post("/referrals/1/status", data={"csrf_token": token, "status": "sent"},
                    follow_redirects=False).status_code == 303
    assert sam.post("/referrals/1/status", data={"csrf_token": token, "status": "draft"}).status_code == 409
    assert sam.post("/referrals/1/status", data={"status": "closed"}).status_code == 403, "CSRF token required"
    package = sam.get("/referrals/1/package")
    assert package.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert "referral-1/MANIFEST.sha256" in names and any(n.endswith(".warc.gz") for n in names)
    overview = sam.get("/referrals").text
    assert "demo_tz" in overview and "<td>1</td><td>0</td>" in overview  # referred 1, removed 0
    with conn.cursor() as cur:
        cur.execute("SELECT action FROM audit_log WHERE entity = 'referral' ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["referral_create", "referral_approved", "referral_sent", "export"]
