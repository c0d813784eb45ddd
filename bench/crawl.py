"""Crawl throughput over the demo marketplaces: pages/s and listings/s per site, static vs browser.

Uses the project's database settings (the self-managed cluster by default) and serves the demo sites on
free ports. Run: .venv/bin/python bench/crawl.py [--repeat N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wildwatch import config, db, runs  # noqa: E402
from wildwatch.demo.server import DemoMarketplaces  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = config.load()
    if settings.manages_local_db:
        db.local_cluster(settings).start()
    conn = db.connect()
    db.migrate(conn)
    conn.close()
    demo = DemoMarketplaces(base_port=0)
    urls = demo.start()
    env = {**os.environ, **{f"WILDWATCH_BASE_URL__{n.upper()}": u for n, u in urls.items()}}
    print(f"{'site':8s} {'kind':8s} {'pages':>6s} {'listings':>8s} {'wall s (median)':>16s} {'pages/s':>8s}")
    try:
        for name in urls:
            times, record = [], None
            for _ in range(args.repeat):
                started = time.perf_counter()
                subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={name}"],
                               cwd=ROOT, env=env, check=True, capture_output=True)
                times.append(time.perf_counter() - started)
                with db.transaction() as c, c.cursor() as cur:
                    cur.execute("SELECT max(id) FROM crawl_runs")
                    record = runs.site_crawl(c, cur.fetchone()[0], name)
            wall = statistics.median(times)
            kind = "browser" if name == "demo_cn" else "static"
            print(f"{name:8s} {kind:8s} {record['pages_fetched']:6d} {record['listings_seen']:8d} {wall:16.1f} "
                  f"{record['pages_fetched'] / wall:8.1f}")
    finally:
        demo.stop()
    print("wall time includes process start (~2 s: Scrapy, Twisted, keyword load) and, for the browser "
          "site, Chromium's launch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
