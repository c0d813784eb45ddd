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
