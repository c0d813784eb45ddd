"""Small helpers shared by tests."""
import os
import socket

from wildwatch import config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def settings_for(env: dict) -> config.Settings:
    """Settings as a subprocess with this environment would read them."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return config.load()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed_site_and_run(cur, site: str = "s", country: str = "VN", language: str = "vi") -> tuple[int, int]:
    """A site row and a November 2026 crawl run, for tests that build queue items by hand."""
    cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES (%s, %s, %s, 'http://x') RETURNING id",
                (site, country, [language]))
    site_id = cur.fetchone()[0]
    cur.execute("INSERT INTO crawl_runs (run_key, kind, period) VALUES ('r', 'manual', '2026-11-01') RETURNING id")
    return site_id, cur.fetchone()[0]


class served:
    """An ASGI app served by uvicorn on 127.0.0.1 in a thread, for real-browser tests: `with served(app) as url`."""

    def __init__(self, app):
        self.app = app

    def __enter__(self) -> str:
        import threading
        import time

        import uvicorn

        port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def browser_login(page, base: str, name: str, password: str = "correct horse battery") -> None:
    """Log in to the review app in a Playwright page and land on the queue."""
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button")
    try:
        page.wait_for_url(base + "/", timeout=15_000)
    except Exception:
        raise AssertionError(f"login did not land on the queue: {page.url}\n{page.content()[:2000]}") from None


def queue_decided(conn, rows, decided_at=None, confirmed=lambda r: r["label"] == "1") -> list[int]:
    """Store and queue labelled rows (text, label, language) as listings, then decide each through the review
    app's own decision code: confirmed(row) -> confirmed, else legal (label 1) or not wildlife."""
    with conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM sites WHERE name = 's'")
        found = cur.fetchone()
        site_id, run_id = seed_site_and_run(cur) if found is None else (found[0], 1)
        ids = []
        for i, r in enumerate(rows):
            cur.execute("""INSERT INTO listings (site_id, url, title, language, score) VALUES (%s, %s, %s, %s, 1)
                           RETURNING id""", (site_id, f"http://x/{r['text'][:20]}/{i}/{len(ids)}{decided_at}", r["text"],
                                             r["language"]))
            listing_id = cur.fetchone()[0]
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, 1) RETURNING id",
                        (listing_id, run_id))
            ids.append(cur.fetchone()[0])
    for r in rows:
        with conn:
            from wildwatch.review import claims

            item = claims.claim_next(conn, "amina")
            decision = "confirmed" if confirmed(r) else ("legal" if r["label"] == "1" else "not_wildlife")
            claims.decide(conn, item["queue_id"], "amina", decision)
    if decided_at:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE review_decisions SET decided_at = %s WHERE queue_id = ANY(%s)", (decided_at, ids))
    return ids


def store_with_contacts(conn, site_id, run_id, url, title, description="", seller=None, account=None, region="TZ",
                        language="sw", queue=False) -> int:
    """A listing stored the way the crawl stores it, its contacts extracted; queued for review if asked."""
    from pipelines.store import store_listing
    from wildwatch import contacts

    item = {"url": url, "title": title, "description": description, "seller": seller, "seller_account": account,
            "price": None, "currency": None, "location": None, "posted": None, "image_urls": [],
            "language": language, "score": 1.0}
    item["contacts"] = [contacts.as_row(c) for c in contacts.from_listing(item, region, language)]
    with conn:
        listing_id = store_listing(conn, item, site_id, run_id, {})
        if queue:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, 1)",
                            (listing_id, run_id))
    return listing_id


def sign_in(client, name: str, password: str, **kwargs):
    """POST /login as the login form does, with the form's token (the login form is CSRF-protected too)."""
    import re

    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": name, "password": password, "csrf_token": token}, **kwargs)
