"""Survey wall time on 1 and on 2 Celery workers (make cluster), over the static demo marketplaces split into
keyword shards, in one run of this script. The demo sites answer with 50 ms of latency (as a real site does
over the network).

Uses scratch databases on the project's PostgreSQL (dropped afterwards) and a temporary var folder.
Run: .venv/bin/python bench/scale.py [--latency-ms 50] [--shard-size 10]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg2  # noqa: E402

from wildwatch import config, db  # noqa: E402
from wildwatch.airflow_client import Airflow  # noqa: E402
from wildwatch.demo.server import DemoMarketplaces  # noqa: E402

SITES = ["demo_vn", "demo_cm", "demo_tz"]
DATA, META = "wildwatch_bench_scale", "wildwatch_bench_scale_airflow"
WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def task_seconds(airflow: Airflow, run: str) -> dict[str, tuple[int, float]]:
    """Per kind of task (plan, crawl, other): how many ran and their summed run time."""
    import datetime as dt

    kinds: dict[str, list[float]] = {}
    for ti in airflow.task_instances("wildwatch_survey", run):
        if ti["state"] != "success":
            continue
        kind = ti["task_id"].rsplit(".", 1)[-1] if "." in ti["task_id"] else "other"
        took = dt.datetime.fromisoformat(ti["end_date"]) - dt.datetime.fromisoformat(ti["start_date"])
        kinds.setdefault(kind, []).append(took.total_seconds())
    return {kind: (len(v), sum(v)) for kind, v in sorted(kinds.items())}


def survey(env: dict, workers: int) -> tuple[float, list[str], int, dict]:
    port = free_port()
    started = subprocess.run([*WILDWATCH, "cluster", "start", "--port", str(port), "--workers", str(workers)],
                             env=env, capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        raise SystemExit(started.stdout + started.stderr)
    try:
        user, password = re.search(r"login: (\S+) / (\S+)", started.stdout).groups()
        airflow = Airflow(f"http://127.0.0.1:{port}", user, password)
        airflow.wait_for_dag("wildwatch_survey")
        began = time.perf_counter()
        run = airflow.trigger("wildwatch_survey", {"sites": SITES})
        state = airflow.wait_state("wildwatch_survey", run, timeout_s=1800)
        wall = time.perf_counter() - began
        if state != "success":
            raise SystemExit(f"survey ended {state}")
        with db.transaction(env["WILDWATCH_DATABASE_URL"]) as conn, conn.cursor() as cur:
            cur.execute("""SELECT c.worker, count(*) FROM shard_crawls c JOIN crawl_runs r ON r.id = c.run_id
                           WHERE r.run_key = %s GROUP BY c.worker ORDER BY c.worker""", (run,))
            used = cur.fetchall()
        return wall, [f"{w} ({n} shards)" for w, n in used], sum(n for _, n in used), task_seconds(airflow, run)
    finally:
        subprocess.run([*WILDWATCH, "cluster", "stop"], env=env, capture_output=True, timeout=180)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--shard-size", type=int, default=10, help="search terms per shard")
    parser.add_argument("--worker-concurrency", type=int, default=1,
                        help="task slots per worker (1: each worker stands for one core of this machine)")
    args = parser.parse_args()
    settings = config.load()
    if not settings.manages_local_db:
        print("bench/scale.py uses scratch databases on the project's own PostgreSQL; unset WILDWATCH_DATABASE_URL",
              file=sys.stderr)
        return 1
    cluster = db.local_cluster(settings)
    cluster.start()
    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    demo = DemoMarketplaces(base_port=0, latency_s=args.latency_ms / 1000)
    urls = demo.start()
    results = {}
    try:
        for workers in (1, 2):
            with admin.cursor() as cur:
                for name in (DATA, META):
                    cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                    cur.execute(f"CREATE DATABASE {name}")
            var = Path(tempfile.mkdtemp(prefix="wildwatch-bench-scale-"))
            env = {**os.environ, "WILDWATCH_VAR_DIR": str(var), "WILDWATCH_PGDATA": str(settings.pg_data),
                   "WILDWATCH_DATABASE_URL": cluster.url(DATA), "WILDWATCH_AIRFLOW_DATABASE_URL": cluster.url(META),
                   "WILDWATCH_REDIS_PORT": str(free_port()), "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                   "WILDWATCH_SHARD_SIZE": str(args.shard_size),
                   "WILDWATCH_WORKER_CONCURRENCY": str(args.worker_concurrency),
                   **{f"WILDWATCH_BASE_URL__{n.upper()}": u for n, u in urls.items()}}
            conn = psycopg2.connect(cluster.url(DATA))
            db.migrate(conn)
            conn.close()
            results[workers] = survey(env, workers)
            wall, used, n, tasks = results[workers]
            print(f"{workers} worker(s) x {args.worker_concurrency} slot(s): survey of {', '.join(SITES)} in {n} "
                  f"shards of {args.shard_size} terms: {wall:.1f} s (crawls ran on {', '.join(used)}); task run "
                  "time: " + ", ".join(f"{k} {c} x {t / c:.1f} s" for k, (c, t) in tasks.items()), flush=True)
    finally:
        demo.stop()
        with admin.cursor() as cur:
            for name in (DATA, META):
                cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()
    print(f"speed-up with 2 workers: {results[1][0] / results[2][0]:.2f}x "
          "(wall time from trigger to success, Airflow scheduling included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
