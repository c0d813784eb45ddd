"""Evidence capture cost: candidates/s with evidence off, on in a folder, and on in an S3 bucket (a real
SeaweedFS server on loopback) over the demo marketplaces, in one run of this script (alternating crawls of
the same site), and bytes stored per candidate. Then the two store backends alone: writes/s, MB/s and
reads/s (each read re-hashed) for WARC-sized and screenshot-sized files, from one writer (a crawl) and from
8 at once (a cluster's workers).

demo_vn: a WARC per candidate. demo_cm with screenshots of static pages on: a WARC and a screenshot.
Run: .venv/bin/python bench/evidence.py [--repeat N] [--objects N]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import scratch_database  # noqa: E402
from wildwatch import db, runs  # noqa: E402
from wildwatch.demo.server import DemoMarketplaces  # noqa: E402
from wildwatch.evidence.store import open_store  # noqa: E402
from wildwatch.locals3 import LocalS3  # noqa: E402


def crawl(site: str, env: dict) -> tuple[float, dict, int]:
    # Each crawl on an empty database: an incremental survey would otherwise skip the pages (and the evidence)
    # the previous crawl already kept, and measure nothing.
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("TRUNCATE crawl_runs, listings CASCADE")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={site}"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    wall = time.perf_counter() - started
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM crawl_runs")
        run_id = cur.fetchone()[0]
        record = runs.site_crawl(conn, run_id, site)
        cur.execute("SELECT coalesce(sum(size_bytes), 0) FROM evidence WHERE run_id = %s", (run_id,))
        stored = int(cur.fetchone()[0])
    return wall, record, stored


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--objects", type=int, default=400, help="files per size in the store measurement")
    args = parser.parse_args()
    with scratch_database("wildwatch_bench_evidence"):
        return measure(args)


def measure(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="wildwatch-bench-evidence-"))
    sites_dir = work / "sites"
    sites_dir.mkdir()
    for path in (ROOT / "sites").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        if path.stem == "demo_cm":
            doc["evidence"] = {"screenshot_static": True}
        (sites_dir / path.name).write_text(yaml.safe_dump(doc, allow_unicode=True))
    demo = DemoMarketplaces(base_port=0)
    urls = demo.start()
    s3 = LocalS3(work / "s3")
    s3.start()
    os.environ.update(s3.env())
    base_env = {**os.environ, "WILDWATCH_SITES_DIR": str(sites_dir),
                **{f"WILDWATCH_BASE_URL__{n.upper()}": u for n, u in urls.items()}}
    print(f"{'site':8s} {'evidence':22s} {'candidates':>10s} {'wall s (median)':>16s} {'candidates/s':>12s} "
          f"{'bytes/candidate':>16s}")
    try:
        for site, kind in (("demo_vn", "WARC"), ("demo_cm", "WARC + screenshot")):
            walls = {"off": [], "folder": [], "s3": []}
            candidates, stored = 0, []
            for i in range(args.repeat):
                for mode in walls:
                    location = str(work / f"evidence-{site}-{i}")
                    if mode == "s3":
                        location = f"s3://bench-{site.replace('_', '-')}-{i}"
                        open_store(location).create_bucket()
                    env = {**base_env, "WILDWATCH_EVIDENCE": "off" if mode == "off" else "on",
                           "WILDWATCH_EVIDENCE_STORE": location}
                    wall, record, size = crawl(site, env)
                    walls[mode].append(wall)
                    candidates = record["candidates_queued"]
                    if mode == "folder":
                        stored.append(size)
            rates = {}
            for mode in walls:
                wall = statistics.median(walls[mode])
                rates[mode] = candidates / wall
                per = f"{statistics.median(stored) / candidates:16,.0f}" if mode != "off" and candidates else f"{'-':>16s}"
                label = "off" if mode == "off" else f"{kind} ({mode})"
                print(f"{site:8s} {label:22s} {candidates:10d} {wall:16.2f} {rates[mode]:12.1f} {per}")
            print(f"{site:8s} ratio on/off candidates/s: folder {rates['folder'] / rates['off']:.2f}, "
                  f"S3 {rates['s3'] / rates['off']:.2f}")
        print("wall time includes process start (~2 s) and, with screenshots, Chromium's launch")
        print()
        stores(work, args.objects)
    finally:
        demo.stop()
        s3.stop()
    return 0


def stores(work: Path, n: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    print(f"{'store':7s} {'file size':>9s} {'writers':>7s} {'writes/s':>9s} {'MB/s':>7s} {'reads/s':>8s} "
          f"{'read MB/s':>9s}")
    for size in (30_000, 300_000):  # a WARC of a listing page; a full-page screenshot
        files = [os.urandom(size) for _ in range(n)]
        for backend in ("folder", "s3"):
            for writers in (1, 8):
                tag = f"{backend}-{size}-{writers}"
                location = str(work / f"store-{tag}") if backend == "folder" else f"s3://bench-store-{tag}"
                store = open_store(location)
                if backend == "s3":
                    store.create_bucket()
                with ThreadPoolExecutor(writers) as pool:
                    started = time.perf_counter()
                    hashes = list(pool.map(store.put, files))
                    wrote = time.perf_counter() - started
                    started = time.perf_counter()
                    assert list(pool.map(store.get, hashes)) == files
                    read = time.perf_counter() - started
                print(f"{backend:7s} {size:9,d} {writers:7d} {n / wrote:9.0f} {n * size / wrote / 1e6:7.1f} "
                      f"{n / read:8.0f} {n * size / read / 1e6:9.1f}")
    print("folder: fsync'd writes on the local disk; s3: SeaweedFS on loopback (one volume server), "
          "conditional PUT after a HEAD; every read re-hashed")


if __name__ == "__main__":
    sys.exit(main())
