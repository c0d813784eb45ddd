"""Review app latency with a full queue, in one run of this script:

1. claim latency: 8 analysts (threads, each its own connection) claim and decide items as fast as they can
   from a queue of 100,000 pending items (the real `claims.claim_next` / `claims.decide`), p50 and p99;
2. page render time: the queue page and the item view through the real app (FastAPI, logged in), p95 over
   repeated requests, with the same 100,000 items queued.

Writes into a scratch database on the project's own PostgreSQL (bench/scratch.py).
Run: .venv/bin/python bench/review.py [--items 100000] [--analysts 8] [--claims 200] [--pages 200]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import re
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import psycopg2  # noqa: E402
from psycopg2.extras import execute_values  # noqa: E402

from scratch import scratch_database  # noqa: E402
from wildwatch.review import accounts, claims  # noqa: E402

GROUPS = ["ivory", "pangolin", "rhino_horn", "big_cats", "marine_turtle", "bear_bile"]
SITES = [("demo_vn", "VN", "vi"), ("demo_cn", "CN", "zh"), ("demo_cm", "CM", "fr"), ("demo_tz", "TZ", "sw")]


def fill(url: str, items: int) -> None:
    rng = random.Random(5)
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        site_ids = []
        for name, country, lang in SITES:
            cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES (%s, %s, %s, 'http://x') "
                        "RETURNING id", (name, country, [lang]))
            site_ids.append((cur.fetchone()[0], lang))
        cur.execute("INSERT INTO crawl_runs (run_key, kind, period) VALUES ('bench', 'monthly', '2026-11-01') "
                    "RETURNING id")
        run = cur.fetchone()[0]
        rows = []
        for i in range(items):
            site, lang = site_ids[i % len(site_ids)]
            rows.append((site, f"http://x/item/{i}", f"Listing {i} ngà voi ivory 象牙 {rng.random():.6f}",
                         "Description " * 20, rng.randrange(100, 10**7), "VND", f"seller {i % 997}", lang,
                         rng.uniform(1, 9), run, run))
        ids = [r[0] for r in execute_values(cur, """
            INSERT INTO listings (site_id, url, title, description, price, currency, seller, language, score,
                                  first_run_id, last_run_id) VALUES %s RETURNING id""", rows, page_size=5000,
                                  fetch=True)]
        execute_values(cur, """INSERT INTO keyword_matches (listing_id, term, language, product_group, kind, field,
                                                            span_start, span_end, matched_text) VALUES %s""",
                       [(lid, "ivory", "en", GROUPS[lid % len(GROUPS)], "product", "title", 0, 5, "ivory")
                        for lid in ids], page_size=5000)
        execute_values(cur, "INSERT INTO sightings (listing_id, run_id, title) VALUES %s",
                       [(lid, run, "t") for lid in ids], page_size=5000)
        execute_values(cur, "INSERT INTO review_queue (listing_id, run_id, priority) VALUES %s",
                       [(lid, run, rng.uniform(0, 10)) for lid in ids], page_size=5000)
        cur.execute("ANALYZE")
        for n in range(8):
            accounts.add_user(conn, f"analyst{n}", "analyst", "correct horse battery")
    conn.close()


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def bench_claims(url: str, analysts: int, per_analyst: int) -> dict:
    timings: list[float] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        conn = psycopg2.connect(url)
        mine = []
        try:
            for _ in range(per_analyst):
                started = time.perf_counter()
                with conn:
                    item = claims.claim_next(conn, f"analyst{n}", 900)
                mine.append(time.perf_counter() - started)
                with conn:
                    claims.decide(conn, item["queue_id"], f"analyst{n}", "not_wildlife")
        finally:
            conn.close()
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(analysts)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = [t * 1000 for t in timings]
    return {"claims": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(percentile(ms, 0.99), 2),
            "claims_per_s": round(len(ms) / wall)}


def bench_pages(url: str, requests: int) -> dict:
    from fastapi.testclient import TestClient

    from wildwatch.review.app import create_app
    from wildwatch.review.settings import ReviewSettings

    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM review_queue WHERE status = 'pending' ORDER BY random() LIMIT %s", (requests,))
        items = [r[0] for r in cur.fetchall()]
    conn.close()
    out = {}
    # Entered as uvicorn would start it: the app's start-up runs.
    with TestClient(create_app(ReviewSettings(secret_key="b" * 40, database_url=url))) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        client.post("/login", data={"username": "analyst0", "password": "correct horse battery", "csrf_token": token})
        for name, paths in (("queue page", ["/"] * requests), ("queue page, filtered (TZ, ivory)",
                                                                ["/?country=TZ&group=ivory"] * requests),
                            ("item view", [f"/item/{i}" for i in items])):
            times = []
            for path in paths:
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            out[name] = {"requests": len(times), "p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(percentile(times, 0.95), 1)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--analysts", type=int, default=8)
    parser.add_argument("--claims", type=int, default=200, help="claims per analyst")
    parser.add_argument("--pages", type=int, default=200, help="requests per page kind")
    args = parser.parse_args()
    with scratch_database("wildwatch_bench_review") as url:
        started = time.perf_counter()
        fill(url, args.items)
        print(f"queue: {args.items:,} pending items (filled in {time.perf_counter() - started:.0f} s)")
        c = bench_claims(url, args.analysts, args.claims)
        print(f"claim + decide, {args.analysts} analysts at once: {c['claims']} claims, claim p50 {c['p50_ms']} ms, "
              f"p99 {c['p99_ms']} ms ({c['claims_per_s']} claims/s with decisions)   goal: p99 under 20 ms")
        for name, r in bench_pages(url, args.pages).items():
            print(f"{name:34s} {r['requests']} requests: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms   "
                  "goal: p95 under 100 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
