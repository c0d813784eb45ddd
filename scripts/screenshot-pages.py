"""Screenshots of review-app pages for the README, at 1366x768, from the demo's database (run `make demo`
first): the widest seller network's page and the item page of one of its listings (whole pages), and what an
analyst sees at work (the window only): the queue, and an item claimed with "Next item" and its decision bar;
adding an offer found by hand from a saved MHTML page, and an item whose photo carries its seller's number.
The claimed item is let go again, and the screenshot account is switched off.

Run: .venv/bin/python scripts/screenshot-pages.py [--out docs]"""
from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wildwatch import db  # noqa: E402
from wildwatch.networks import queries  # noqa: E402
from wildwatch.review import accounts  # noqa: E402
from wildwatch.review.app import create_app  # noqa: E402
from wildwatch.review.settings import ReviewSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    import uvicorn
    from playwright.sync_api import sync_playwright

    from spiders.browser import CHROMIUM_ARGS, chromium_path

    url = db.ready()
    conn = db.connect(url)
    name, password = f"screenshots-{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    with conn:
        accounts.add_user(conn, name, "analyst", password)
    widest = queries.list_networks(conn)[0]
    network = queries.network(conn, widest["id"])
    item = next(m["queue_id"] for m in network["members"] if m["queue_id"])
    with conn.cursor() as cur:  # a listing whose only link to its seller is a number painted on its photo
        cur.execute("""SELECT q.id FROM review_queue q JOIN listings l ON l.id = q.listing_id
                       WHERE l.photo_text IS NOT NULL ORDER BY l.url LIMIT 1""")
        row = cur.fetchone()
    painted_item = row[0] if row else None
    conn.close()
    app = create_app(ReviewSettings(secret_key=secrets.token_hex(32), database_url=url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(base + "/login")
            page.fill("input[name=username]", name)
            page.fill("input[name=password]", password)
            page.click("form[action='/login'] button")
            page.wait_for_url(base + "/")
            for path, out in ((f"/network/{widest['id']}", "network-page.png"), (f"/item/{item}", "item-linked.png")):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(args.out / out), full_page=True)
                print(f"wrote {args.out / out} ({path})")
            page.goto(base + "/?clear=1")
            page.screenshot(path=str(args.out / "queue.png"))
            print(f"wrote {args.out / 'queue.png'} (the queue, 1366x768 window)")
            page.keyboard.press("n")
            page.wait_for_url(base + "/item/*")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / "item-decide.png"))
            print(f"wrote {args.out / 'item-decide.png'} ({page.url}, 1366x768 window)")
            page.click("a[href='/']")  # following a link away lets the item go (the item page's beacon)
            page.wait_for_url(base + "/")
            saved = args.out / "post.mhtml"
            saved.write_bytes(_saved_post())
            try:
                page.click("text=Add a find")
                page.select_option("select[name=platform]", "facebook")
                page.fill("input[name=country]", "VN")
                page.set_input_files("input[name=file]", str(saved))
                page.click("#bring button")
                page.wait_for_selector("#save")
                page.frame_locator("iframe.evidence").locator("h1").wait_for()  # the saved page, shown inert
                # A window as tall as the page: Chromium's full-page capture leaves a sandboxed frame blank.
                page.set_viewport_size({"width": 1366, "height": 1100})
                page.screenshot(path=str(args.out / "hand-add.png"))
                page.set_viewport_size({"width": 1366, "height": 768})
                print(f"wrote {args.out / 'hand-add.png'} (a saved post brought in, its fields proposed)")
            finally:
                saved.unlink()
            if painted_item:
                page.goto(base + f"/item/{painted_item}")
                page.wait_for_load_state("networkidle")
                page.locator("#photos").screenshot(path=str(args.out / "item-photo-text.png"))
                print(f"wrote {args.out / 'item-photo-text.png'} (/item/{painted_item}: text read from its photo)")
            browser.close()
    finally:
        server.should_exit = True
        disable(url, name)


def _saved_post() -> bytes:
    """A post as Chrome's "Save page as... single file" writes it (MHTML), from a closed group."""
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    url = "https://www.facebook.com/groups/example/posts/1001"
    html = ("<html><head><title>Vòng tay ngà voi thật</title></head><body><h1>Vòng tay ngà voi thật</h1>"
            "<p>Hàng chuẩn, bao test. Giá 15tr, ship toàn quốc. Liên hệ Zalo 0912 345 678</p></body></html>")
    message = MIMEMultipart("related", type="text/html")
    message["From"] = "<Saved by Blink>"
    message["Snapshot-Content-Location"] = url
    part = MIMEText(html, "html", "utf-8")
    part["Content-Location"] = url
    message.attach(part)
    return message.as_bytes()


def disable(url: str, name: str) -> None:
    """The screenshot account is switched off again, its session ended (accounts are never deleted: the audit
    log names them)."""
    conn = db.connect(url)
    try:
        with conn:
            accounts.set_disabled(conn, name, True, by="screenshot-pages")
    finally:
        conn.close()


if __name__ == "__main__":
    main()
