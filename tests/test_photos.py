"""Listing photos: only real raster images are kept, checked by their bytes; hostile files are refused with the
reason and the listing stays queued; the demo's re-used photos are told apart from unrelated ones."""
import io
import itertools
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from PIL import Image

from test_crawl import ROOT, crawl, latest_run
from wildwatch import photos
from wildwatch.demo import generator
from wildwatch.demo import photos as demo_photos
from wildwatch.networks.store import PHOTO_RADIUS


def jpeg(size=(64, 48), colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def bomb() -> bytes:
    """A 48 KB PNG that decodes to 400 million pixels."""
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    return out.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


def test_real_images_are_kept_with_a_thumbnail_and_a_hash():
    kept = photos.check(jpeg((800, 600)), 5_000_000)
    assert (kept.media_type, kept.width, kept.height) == ("image/jpeg", 800, 600)
    assert Image.open(io.BytesIO(kept.thumbnail)).size == (240, 180)
    assert -(1 << 63) <= kept.phash < (1 << 63)
    png = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(png, "PNG")
    assert photos.check(png.getvalue(), 5_000_000).media_type == "image/png"


@pytest.mark.parametrize("data,reason", [
    (bomb(), "decompression bomb refused"),
    (SVG, "SVG or XML, never kept"),
    (HTML, "HTML, not an image"),
    (b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024), "too big"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "broken png image"),
    (b"GIF89a\x01\x00\x01\x00" + b"\xff" * 40, "broken gif image"),
    (b"", "empty response"),
])
def test_hostile_files_are_refused_with_the_reason(data, reason):
    with pytest.raises(photos.NotAPhoto, match=reason):
        photos.check(data, 5 * 1024 * 1024)


def test_the_near_duplicate_threshold_separates_the_demos_reused_photos_from_unrelated_ones():
    """Pair precision and recall on the demo's photos: planted copies (re-encoded, resized, cropped 4%,
    watermarked) against every other pair."""
    hashes = []
    for site in generator.generate().values():
        for x in site.listings + site.later:
            for n in (1, 2):
                same = x.photo if n == 1 and x.photo else f"{x.site}/{x.id}/{n}"
                hashes.append((same, photos.unsigned64(photos.check(demo_photos.for_listing(x, n), 10**7).phash)))
    true_pos = false_pos = false_neg = 0
    for (a, ha), (b, hb) in itertools.combinations(hashes, 2):
        near = (ha ^ hb).bit_count() <= PHOTO_RADIUS
        true_pos += near and a == b
        false_pos += near and a != b
        false_neg += (not near) and a == b
    assert true_pos >= 12 and false_pos == 0 and false_neg == 0, (true_pos, false_pos, false_neg)


class _HostileImages(BaseHTTPRequestHandler):
    PAGES = {
        "/robots.txt": (b"User-agent: *\nDisallow: /private/\n", "text/plain"),
        "/img/good.jpg": (jpeg((320, 240)), "image/jpeg"),
        "/img/bomb.png": (bomb(), "image/png"),
        "/img/evil.svg": (SVG, "image/svg+xml"),
        "/img/page.png": (HTML, "image/png"),
        "/private/photo.jpg": (jpeg(), "image/jpeg"),
    }

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/search":
            body = ('<div class="ad-list"><div class="ad-card"><a class="ad-title" href="/item/1">Carved ivory bangle</a>'
                    '<span class="ad-price">TSh 100,000</span></div></div>').encode()
            return self._send(body, "text/html; charset=utf-8")
        if path == "/item/1":
            images = ["/img/good.jpg", "/img/bomb.png", "/img/evil.svg", "/img/page.png", "/img/huge.jpg",
                      "/img/missing.jpg", "/private/photo.jpg", "http://elsewhere.example/x.jpg"]
            body = ('<h1 class="listing-title">Carved ivory bangle</h1><div class="price">TSh 100,000</div>'
                    '<div class="seller">Juma</div><div class="description">Genuine elephant ivory.</div>'
                    + "".join(f'<img class="photo" src="{u}">' for u in images)).encode()
            return self._send(body, "text/html; charset=utf-8")
        if path == "/img/huge.jpg":  # 50 MB, more than the cap
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
            try:
                self.wfile.write(b"\xff\xd8\xff")
                for _ in range(50):
                    self.wfile.write(b"\0" * (1024 * 1024))
            except (BrokenPipeError, ConnectionResetError):
                pass
            return None
        if path in self.PAGES:
            return self._send(*self.PAGES[path])
        self.send_response(404)
        self.end_headers()
        return None

    def _send(self, body: bytes, content_type: str):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_crawl_keeps_the_good_photo_and_records_why_each_hostile_one_was_refused(crawl_env, conn, tmp_path,
                                                                                   monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileImages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    folder = tmp_path / "sites"
    folder.mkdir()
    doc = yaml.safe_load((ROOT / "sites" / "demo_tz.yaml").read_text())
    doc["checks"] = []
    (folder / "demo_tz.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    monkeypatch.setenv("WILDWATCH_BASE_URL__DEMO_TZ", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("WILDWATCH_PHOTO_MAX_BYTES", str(5 * 1024 * 1024))
    try:
        crawl("demo_tz", dict(os.environ), "-a", "queries=ivory")
    finally:
        server.shutdown()
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM review_queue")
        assert cur.fetchone()[0] == 1  # the listing stays queued
        cur.execute("""SELECT regexp_replace(source_url, '^http://127.0.0.1:[0-9]+', ''), sha256 IS NOT NULL,
                              media_type, coalesce(missing_reason, '') FROM listing_photos ORDER BY position""")
        rows = cur.fetchall()
    got = {url: (kept, media, reason) for url, kept, media, reason in rows}
    assert got["/img/good.jpg"][:2] == (True, "image/jpeg")
    assert "decompression bomb refused" in got["/img/bomb.png"][2]
    assert "SVG or XML" in got["/img/evil.svg"][2]
    assert "HTML, not an image" in got["/img/page.png"][2]
    assert "too big" in got["/img/huge.jpg"][2] or "fetch failed" in got["/img/huge.jpg"][2]
    assert got["/img/missing.jpg"][2] == "HTTP 404"
    assert "robots.txt" in got["/private/photo.jpg"][2] or "Forbidden by robots.txt" in got["/private/photo.jpg"][2]
    assert "off-site host elsewhere.example" in got["http://elsewhere.example/x.jpg"][2]
    assert [kept for kept, _, _ in got.values()].count(True) == 1
    # and the evidence check covers the kept photo and its thumbnail
    from wildwatch.evidence.store import open_store
    from wildwatch.evidence.verify import verify

    report = verify(conn, open_store())
    assert report.ok and report.checked >= 3  # page WARC, photo, thumbnail
    assert sum(kind == "photo" for _, kind, _, _ in report.not_captured) == 7
    assert latest_run(conn)


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_photos_of_listings_decided_not_wildlife_are_purged_after_the_retention_age(conn, tmp_path, monkeypatch,
                                                                                     request, backend):
    from helpers import seed_site_and_run, store_with_contacts
    from wildwatch import cli
    from wildwatch.evidence.store import open_store
    from test_review_networks import add_photos

    monkeypatch.setenv("WILDWATCH_EVIDENCE_DIR", str(tmp_path / "evidence"))
    location = request.getfixturevalue("s3_store_env") if backend == "s3" else tmp_path / "evidence"
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_tz", "TZ", "sw")
    innocent = store_with_contacts(conn, site, run, "http://x/1", "Ivory dress", queue=True)
    offer = store_with_contacts(conn, site, run, "http://x/2", "Pembe", queue=True)
    add_photos(conn, innocent, location, ["dress", "shared"])
    add_photos(conn, offer, location, ["tusk", "shared"])  # "shared": the same file, still needed
    with conn, conn.cursor() as cur:
        for listing, decision, days in ((innocent, "not_wildlife", 40), (offer, "confirmed", 40)):
            cur.execute("""INSERT INTO review_decisions (queue_id, listing_id, decision, decided_by, decided_at)
                           SELECT id, listing_id, %s, 'amina', now() - make_interval(days => %s)
                           FROM review_queue WHERE listing_id = %s""", (decision, days, listing))
        cur.execute("SELECT sha256 FROM listing_photos WHERE listing_id = %s ORDER BY position", (innocent,))
        dress, shared = [r[0].strip() for r in cur.fetchall()[:2]]
    assert cli.main(["evidence", "purge-photos", "--older-than-days", "60", "--user", "chloe"]) == 0
    store = open_store(location)
    assert store.exists(dress)  # decided 40 days ago: kept under a 60-day retention
    assert cli.main(["evidence", "purge-photos", "--older-than-days", "30", "--dry-run"]) == 0
    assert store.exists(dress)
    assert cli.main(["evidence", "purge-photos", "--older-than-days", "30", "--user", "chloe"]) == 0
    assert not store.exists(dress) and store.exists(shared)  # the confirmed offer's copy stays
    with conn.cursor() as cur:
        cur.execute("SELECT listing_id, count(sha256), count(*) FILTER (WHERE missing_reason LIKE 'purged%%') "
                    "FROM listing_photos GROUP BY 1 ORDER BY 1")
        assert cur.fetchall() == [(innocent, 0, 2), (offer, 2, 0)]
        cur.execute("SELECT user_name, after->>'photos' FROM audit_log WHERE action = 'purge_photos'")
        assert cur.fetchall() == [("chloe", "2")]
    assert cli.main(["evidence", "purge-photos", "--older-than-days", "-1"]) != 0


def test_photos_come_from_the_sites_own_host_or_the_hosts_its_file_declares(tmp_path, monkeypatch):
    from wildwatch import sites

    monkeypatch.delenv("WILDWATCH_BASE_URL__DEMO_TZ", raising=False)
    doc = yaml.safe_load((ROOT / "sites" / "demo_tz.yaml").read_text())
    doc.update(base_url="https://www.sokoni.example", image_hosts=["cdn.sokoni-img.example"], checks=[])
    (tmp_path / "demo_tz.yaml").write_text(yaml.safe_dump(doc))
    site = sites.load("demo_tz", tmp_path)
    assert site.photo_host_allowed("https://www.sokoni.example/img/1.jpg")
    assert site.photo_host_allowed("https://static.sokoni.example/img/1.jpg")
    assert site.photo_host_allowed("https://cdn.sokoni-img.example/a/1.jpg")
    assert not site.photo_host_allowed("https://sokoni-img.example.evil.com/1.jpg")
    assert not site.photo_host_allowed("https://tracker.example/pixel.gif")
