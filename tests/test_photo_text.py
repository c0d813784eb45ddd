"""Text written on photos: read with OCR, its contacts link the listing into its seller's network with the
reason "written on a photo", the item page shows it; only candidates' photos are read, each once."""
import pytest

from helpers import seed_site_and_run, sign_in, store_with_contacts
from wildwatch import config, contacts, ocr, photo_text
from wildwatch.demo.painted import painted
from wildwatch.evidence.store import open_store


@pytest.mark.parametrize("read, region, language, want", [
    ("Zalo0912\n345678", "VN", "vi", ("zalo", "+84912345678")),
    ("simu0712345678", "TZ", "sw", ("phone", "+255712345678")),
    ("微信：ivory8888", "CN", "zh", ("wechat", "ivory8888")),
    ("WhatsApp\n+255\n712 345 678", "TZ", "en", ("whatsapp", "+255712345678")),
])
def test_what_ocr_reads_is_joined_so_contact_extraction_finds_it(read, region, language, want):
    found = contacts.extract(ocr.contact_text(read), "photo_text", region, language)
    assert want in {(c.kind, c.value) for c in found}


@pytest.mark.parametrize("text, style, region, language, want", [
    ("微信: ivory8888", "band", "CN", "zh", ("wechat", "ivory8888")),
    ("Zalo 0912 345 678", "outline", "VN", "vi", ("zalo", "+84912345678")),
    ("simu 0712 345 678", "outline", "TZ", "sw", ("phone", "+255712345678")),
])
def test_contacts_painted_on_a_busy_photo_are_read(text, style, region, language, want):
    reading = ocr.read(painted(text, text, style))
    found = contacts.extract(ocr.contact_text(reading.text), "photo_text", region, language)
    assert want in {(c.kind, c.value) for c in found}, reading


def _photo(conn, listing_id, data, store):
    from wildwatch import photos
    from wildwatch.evidence import photos as records

    photo = photos.check(data, 10 ** 7)
    with conn:
        records.record(conn, listing_id, None, [{
            "position": 1, "source_url": f"http://x/img/{listing_id}.jpg", "sha256": store.put(photo.data),
            "thumb_sha256": store.put(photo.thumbnail), "media_type": photo.media_type, "width": photo.width,
            "height": photo.height, "size_bytes": len(photo.data), "phash": photo.phash, "missing_reason": None}])


def test_a_number_painted_on_a_photo_links_the_seller_and_the_item_page_shows_it(conn, database_url, tmp_path,
                                                                                 monkeypatch):
    from fastapi.testclient import TestClient

    from wildwatch.networks import store as networks
    from wildwatch.review import accounts
    from wildwatch.review.app import create_app
    from wildwatch.review.settings import ReviewSettings

    monkeypatch.setenv("WILDWATCH_EVIDENCE_DIR", str(tmp_path / "evidence"))
    store = open_store(config.load().evidence_dir)
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_vn", "VN", "vi")
    quiet = store_with_contacts(conn, site, run, "http://x/1", "Vòng ngà voi", "inbox để biết giá", "Tuấn", "/u/1",
                                region="VN", language="vi", queue=True)
    known = store_with_contacts(conn, site, run, "http://x/2", "Vòng tay", "Zalo 0912345678", "Minh", "/u/2",
                                region="VN", language="vi", queue=True)
    unqueued = store_with_contacts(conn, site, run, "http://x/3", "Áo", "", "An", "/u/3", region="VN", language="vi")
    _photo(conn, quiet, painted("a", "Zalo 0912 345 678", "outline"), store)
    keyworded = store_with_contacts(conn, site, run, "http://x/4", "Vòng tay", "", "Hà", "/u/4", region="VN",
                                    language="vi", queue=True)
    _photo(conn, keyworded, painted("c", "ngà voi thật", "band"), store)
    _photo(conn, unqueued, painted("b", "Zalo 0912 345 678", "band"), store)
    done = photo_text.read_pending(conn, store)
    assert done["photos"] == 2 and done["contacts"] >= 1  # candidates only: the unqueued listing's photo waits
    with conn.cursor() as cur:  # keywords written on a photo count, as a field of their own
        cur.execute("SELECT score, score_reasons FROM listings WHERE id = %s", (keyworded,))
        score, reasons = cur.fetchone()
    assert score > 0 and any("in photo_text" in r for r in reasons), reasons
    networks.rebuild(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT network_id FROM network_members WHERE listing_id = ANY(%s)", ([quiet, known],))
        assert len({r[0] for r in cur.fetchall()}) == 1
        cur.execute("SELECT reason FROM network_links")
        reasons = [r[0] for r in cur.fetchall()]
    assert any("written on a photo" in r for r in reasons), reasons
    assert photo_text.read_pending(conn, store)["photos"] == 0  # each photo read once
    with conn:
        accounts.add_user(conn, "amina", "analyst", "correct horse battery")
        cur = conn.cursor()
        cur.execute("SELECT id FROM review_queue WHERE listing_id = %s", (quiet,))
        queue_id = cur.fetchone()[0]
    client = TestClient(create_app(ReviewSettings(secret_key="p" * 40, database_url=database_url,
                                                  evidence_dir=tmp_path / "evidence")))
    sign_in(client, "amina", "correct horse battery")
    page = client.get(f"/item/{queue_id}").text
    assert 'id="photo-text"' in page and 'class="contact"' in page[page.index('id="photo-text"'):]
    # a new crawl of the listing keeps what its photo said
    store_with_contacts(conn, site, run, "http://x/1", "Vòng ngà voi", "inbox để biết giá", "Tuấn", "/u/1",
                        region="VN", language="vi")
    assert photo_text.contacts_of(conn, quiet)
