"""Report generation time for a month with ~100,000 listings seen and ~10,000 decisions.

Creates a scratch database on the project's PostgreSQL (dropped afterwards), seeds a synthetic six-month
history (wildwatch/demo/history.py), and times build + write of the month's report.
Run: .venv/bin/python bench/report.py [--screenshot docs/report-1366]
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from wildwatch import config, db, keywords, runs  # noqa: E402
from wildwatch.demo.history import HistorySize, seed  # noqa: E402
from wildwatch.report.build import build_report, write  # noqa: E402

SCRATCH = "wildwatch_bench_report"


# The report as a supervisor sees it on a 1366x768 laptop: its first screen, then screens scrolled to these.
SECTIONS = {"first": None, "prices": "prices", "missed": "filter_quality", "crawl-health": "crawl_health"}


def screenshot(html: Path, out: Path) -> list[Path]:
    """out-first.png, out-prices.png, out-missed.png, out-crawl-health.png (out: a path without .png)."""
    from playwright.sync_api import sync_playwright

    from spiders.browser import CHROMIUM_ARGS, chromium_path

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(html.as_uri())
        wide = page.evaluate("document.documentElement.scrollWidth")
        print(f"page width at 1366 px: {wide} px")
        for name, anchor in SECTIONS.items():
            top = page.evaluate(f"document.getElementById('{anchor}').offsetTop - 8") if anchor else 0
            page.evaluate(f"window.scrollTo(0, {top})")
            path = out.with_name(f"{out.name.removesuffix('.png')}-{name}.png")
            page.screenshot(path=str(path))
            written.append(path)
        browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-platform", type=int, default=7000, help="new listings per platform and month")
    parser.add_argument("--months", type=int, default=6, help="months of history before and including the report's")
    parser.add_argument("--screenshot", type=Path, metavar="PREFIX",
                        help="write PNGs of the report at 1366x768 (first screen, prices, missed offers, crawl "
                             "health) as PREFIX-first.png, ...")
    args = parser.parse_args()
    settings = config.load()
    if not settings.manages_local_db:
        print("bench/report.py creates a scratch database on the project's own PostgreSQL; unset "
              "WILDWATCH_DATABASE_URL", file=sys.stderr)
        return 1
    cluster = db.local_cluster(settings)
    cluster.start()
    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {SCRATCH}")
    conn = psycopg2.connect(cluster.url(SCRATCH))
    try:
        db.migrate(conn)
        with conn:
            runs.sync_keywords(conn, keywords.load(settings.keywords_dir))
        month = dt.date(2026, 10, 1)
        started = time.perf_counter()
        with conn:
            counts = seed(conn, month, HistorySize(months=args.months, listings_per_platform_month=args.per_platform,
                                                   decided_share=0.57))
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
            cur.execute("""SELECT count(DISTINCT g.listing_id) FROM sightings g JOIN crawl_runs r ON r.id = g.run_id
                           WHERE r.period = %s""", (month,))
            seen = cur.fetchone()[0]
            cur.execute("""SELECT count(*) FROM review_decisions d JOIN review_queue q ON q.id = d.queue_id
                           JOIN crawl_runs r ON r.id = q.run_id WHERE r.period = %s""", (month,))
            decided = cur.fetchone()[0]
        print(f"seeded {counts['listings']:,} listings over {args.months} months in {time.perf_counter() - started:.0f} s; "
              f"report month: {seen:,} listings seen, {decided:,} decisions")
        out = Path(tempfile.mkdtemp(prefix="wildwatch-bench-report-"))
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = build_report(conn, f"{month:%Y-%m}")
            built = time.perf_counter() - started
            files = write(report, out)
            timings.append((built, time.perf_counter() - started))
        best = min(timings, key=lambda t: t[1])
        print(f"report: build {best[0]:.1f} s, build + write (HTML, 9 CSV, XLSX) {best[1]:.1f} s "
              f"(best of 3; all: {', '.join(f'{t[1]:.1f}' for t in timings)} s)")
        if args.screenshot:
            for path in screenshot(files["html"], args.screenshot):
                print(f"screenshot: {path}")
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
