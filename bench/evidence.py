"""Evidence capture cost: candidates/s with evidence on vs off over the demo marketplaces, in one run of
this script (alternating on/off crawls of the same site), and bytes stored per candidate.

demo_vn: a WARC per candidate. demo_cm with screenshots of static pages on: a WARC and a screenshot.
Run: .venv/bin/python bench/evidence.py [--repeat N]
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


def crawl(site: str, env: dict) -> tuple[float, dict, int]:
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
    base_env = {**os.environ, "WILDWATCH_SITES_DIR": str(sites_dir),
                **{f"WILDWATCH_BASE_URL__{n.upper()}": u for n, u in urls.items()}}
    print(f"{'site':8s} {'evidence':22s} {'candidates':>10s} {'wall s (median)':>16s} {'candidates/s':>12s} "
          f"{'bytes/candidate':>16s}")
    try:
        for site, kind in (("demo_vn", "WARC"), ("demo_cm", "WARC + screenshot")):
            walls = {"off": [], "on": []}
            candidates, stored = 0, []
            for i in range(args.repeat):
                for mode in ("off", "on"):
                    env = {**base_env, "WILDWATCH_EVIDENCE": mode,
                           "WILDWATCH_EVIDENCE_DIR": str(work / f"evidence-{site}-{i}")}
                    wall, record, size = crawl(site, env)
                    walls[mode].append(wall)
                    candidates = record["candidates_queued"]
                    if mode == "on":
                        stored.append(size)
            rates = {}
            for mode in ("off", "on"):
                wall = statistics.median(walls[mode])
                rates[mode] = candidates / wall
                per = f"{statistics.median(stored) / candidates:16,.0f}" if mode == "on" and candidates else f"{'-':>16s}"
                print(f"{site:8s} {(kind if mode == 'on' else 'off'):22s} {candidates:10d} {wall:16.2f} "
                      f"{rates[mode]:12.1f} {per}")
            print(f"{site:8s} ratio on/off candidates/s: {rates['on'] / rates['off']:.2f}")
    finally:
        demo.stop()
    print("wall time includes process start (~2 s) and, with screenshots, Chromium's launch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
