"""Requests a monthly survey needs with incremental surveys: month 1 crawls a 2,000-listing demo marketplace;
before month 2, 10% of the listings change price, 10% are taken down and as many new ones go up: month 2 lists
2,000 listings, 80% of them unchanged. Month 2 runs incrementally (unchanged listings re-read from their last
detail fetch) and then again as a full crawl of the same month, for comparison. Requests are counted by the
demo server (pages, photos, robots.txt).

Writes into a scratch database on the project's own PostgreSQL (bench/scratch.py), never the survey's.
Run: .venv/bin/python bench/survey_requests.py [--listings 2000] [--latency-ms 50]
"""
from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl import QUERY, SITE, big_market, crawl_env, run_full  # noqa: E402
from scratch import scratch_database  # noqa: E402


def plant_changes(demo, rng: random.Random, new_share=0.10, repriced_share=0.10, removed_share=0.10) -> dict:
    site = demo.sites[SITE]
    listings = list(site.listings)
    n = len(listings)
    picked = rng.sample(listings, int(n * (repriced_share + removed_share)))
    repriced, removed = picked[:int(n * repriced_share)], picked[int(n * repriced_share):]
    for listing in repriced:
        demo.reprice(SITE, listing.id, listing.price * 2 + 1000)
    demo.remove(SITE, [x.id for x in removed])
    for i in range(int(n * new_share)):
        src = listings[i % n]
        site.listings.append(dataclasses.replace(src, id=f"vn9{i + 1:04d}", images=[f"/img/vn9{i + 1:04d}-1.jpg"]))
    return {"new": int(n * new_share), "repriced": len(repriced), "removed": len(removed)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listings", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=50)
    args = parser.parse_args()
    with scratch_database("wildwatch_bench_incremental"):
        return measure(args)


def measure(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="wildwatch-bench-incremental-"))
    demo = big_market(args.listings, args.latency_ms / 1000)
    urls = demo.start()
    env = crawl_env(work, urls)
    served = demo.served[SITE]
    try:
        print(f"demo marketplace: {args.listings} listings found by the query {QUERY!r}, "
              f"{args.latency_ms:g} ms per answer")
        rows = []
        served.take()
        rows.append(("month 1 (first survey)", run_full(env), served.take()))
        changes = plant_changes(demo, random.Random(7))
        unchanged = args.listings - changes["repriced"] - changes["removed"]
        listed = args.listings - changes["removed"] + changes["new"]
        print(f"between the months: {changes['new']} new, {changes['repriced']} repriced, {changes['removed']} "
              f"taken down; {unchanged} of month 2's {listed} listings ({unchanged / listed:.0%}) unchanged")
        rows.append(("month 2, incremental", run_full(env), served.take()))
        rows.append(("month 2, full (refetch all)", run_full({**env, "WILDWATCH_REFETCH_AFTER_DAYS": "0"}),
                     served.take()))
        print(f"{'':30s} {'requests':>9s} {'pages':>7s} {'photos':>7s} {'skipped':>8s} {'seconds':>8s}")
        for name, stats, paths in rows:
            requests = sum(paths.values())
            pages = sum(v for p, v in paths.items() if p.startswith(("/item/", "/search")))
            photos = sum(v for p, v in paths.items() if p.startswith("/img/"))
            print(f"{name:30s} {requests:9d} {pages:7d} {photos:7d} {stats['skipped']:8.0f} {stats['elapsed']:8.1f}")
        first, incremental, full = (sum(r[2].values()) for r in rows)
        print(f"month 2 incremental / month 1: {incremental / first:.0%} of the requests "
              f"(full month 2 / month 1: {full / first:.0%}); goal: at most 50%")
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
