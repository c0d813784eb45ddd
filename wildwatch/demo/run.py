"""`wildwatch demo`: the whole monthly survey on built-in defaults, as a newcomer's first run.

Starts the project's PostgreSQL and the demo marketplaces, migrates, runs the monthly DAG once with
`airflow dags test`, then prints per-site counts against the ground truth. The database keeps running.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

from wildwatch import config, db, demo_report
from wildwatch.airflow_env import airflow_cli, airflow_env
from wildwatch.demo.server import DEFAULT_BASE_PORT, SITE_ORDER
from wildwatch.localpg import port_in_use


def _airflow(args: list[str], env: dict, log: Path) -> int:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        return subprocess.call([airflow_cli(), *args], env=env, stdout=fh,
                               stderr=subprocess.STDOUT)


def _demo_login(settings) -> str:
    """A demo analyst for the review app; its password is generated once and kept under var/."""
    from wildwatch.review import accounts

    secret = settings.var_dir / "review-demo.password"
    if not secret.exists():
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(__import__("secrets").token_urlsafe(12))
    password = secret.read_text().strip()
    with db.transaction() as conn:
        if accounts.authenticate(conn, "demo", password) is None:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM users WHERE name = 'demo'")
                exists = cur.fetchone()
            if exists:
                return f"demo / (see {secret})"
            accounts.add_user(conn, "demo", "analyst", password, by="demo")
    return f"demo / {password}"


def run_demo() -> int:
    settings = config.load()
    started = time.monotonic()
    if settings.manages_local_db:
        cluster = db.local_cluster(settings)
        cluster.start()
        print(f"PostgreSQL {cluster.status()}")
    conn = db.connect()
    try:
        applied = db.migrate(conn)
        print("schema:", ", ".join(applied) if applied else "up to date")
    finally:
        conn.close()

    demo_proc = None
    ports = [DEFAULT_BASE_PORT + i for i in range(len(SITE_ORDER))]
    if not all(port_in_use(p) for p in ports):
        demo_proc = subprocess.Popen([sys.executable, "-m", "wildwatch.cli", "demo-site"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if all(port_in_use(p) for p in ports):
                break
            time.sleep(0.1)
        else:
            print("wildwatch: the demo marketplaces did not start on ports "
                  f"{ports[0]}-{ports[-1]}", file=sys.stderr)
            return 1
    print("demo marketplaces on http://127.0.0.1:%d-%d" % (ports[0], ports[-1]))

    env = {**os.environ, **airflow_env(settings)}
    log = settings.var_dir / "log" / f"demo-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        print("migrating the Airflow metadata database ...")
        if _airflow(["db", "migrate"], env, log) != 0:
            print(f"wildwatch: airflow db migrate failed, see {log}", file=sys.stderr)
            return 1
        print("running DAG wildwatch_monthly_survey (airflow dags test) ...")
        rc = _airflow(["dags", "test", "wildwatch_monthly_survey"], env, log)
    finally:
        if demo_proc:
            demo_proc.terminate()
            demo_proc.wait(10)
    with db.transaction() as conn:
        ok = demo_report.print_report(conn)
    login = _demo_login(settings)
    print(f"\nreview app: .venv/bin/wildwatch review  -> http://127.0.0.1:8700  login: {login}")
    reports = sorted(settings.reports_dir.glob("*/report-*.html"), key=lambda p: p.stat().st_mtime)
    if reports:
        print(f"monthly report: {reports[-1]}  (also under Reports in the review app)")
    print(f"Airflow log: {log}")
    print(f"wall time: {time.monotonic() - started:.0f} s")
    print("next: .venv/bin/wildwatch queue list   (the review queue; `wildwatch db stop` stops PostgreSQL)")
    if rc != 0:
        print(f"wildwatch: the DAG run failed (exit {rc}); see {log}", file=sys.stderr)
        return 1
    return 0 if ok else 1
