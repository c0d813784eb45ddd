"""`wildwatch demo [--month N]`: a whole monthly survey on built-in defaults, as a newcomer's first run.

Starts the project's PostgreSQL and the demo marketplaces (as they are in the demo's month N), migrates, runs
the monthly DAG once with `airflow dags test` for that month (month 1: last calendar month; month 2: this one),
then prints per-site counts against the ground truth. The database keeps running. Every port comes from
wildwatch/ports.py, so a second checkout's demo runs beside this one.
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

from wildwatch import config, dagtest, db, demo_report, ports
from wildwatch.demo.server import SITE_ORDER
from wildwatch.localpg import port_in_use
from wildwatch.report.queries import add_months


def survey_date(month: int, now: dt.datetime | None = None) -> dt.datetime:
    """The logical date of the demo's month N survey: in last calendar month for N=1, this month for N=2, at
    today's time of day (so a repeated survey of a month is a run of its own, as a re-run survey would be)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    first = add_months(now.date().replace(day=1), month - 2)
    return dt.datetime.combine(first, now.time().replace(microsecond=0), tzinfo=dt.timezone.utc)


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


def _start_sites(settings, month: int) -> tuple[subprocess.Popen | None, int]:
    port = ports.claim("demo", settings.var_dir)
    wanted = [port + i for i in range(len(SITE_ORDER))]
    # Its messages go to a file: a pipe nobody reads during the survey would fill and stall the servers.
    log = settings.var_dir / "log" / "demo-site.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "wildwatch.cli", "demo-site", "--port", str(port),
                                 "--month", str(month)], stdout=subprocess.DEVNULL, stderr=out)
    for _ in range(100):
        if all(port_in_use(p) for p in wanted):
            return proc, port
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    proc.wait(10)
    err = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    print(f"wildwatch: the demo marketplaces did not start on ports {wanted[0]}-{wanted[-1]}"
          + (f": {err[-1]}" if err else f" (see {log})"), file=sys.stderr)
    return None, port


def run_demo(month: int = 1) -> int:
    settings = config.load()
    started = time.monotonic()
    if settings.manages_local_db:
        cluster = db.local_cluster(settings)
        cluster.start()  # on a free port when another checkout's server holds this one
        print(f"PostgreSQL {cluster.status()}")
        settings = config.load()
    conn = db.connect()
    try:
        applied = db.migrate(conn)
        print("schema:", ", ".join(applied) if applied else "up to date")
    finally:
        conn.close()

    sites_proc, port = _start_sites(settings, month)
    if sites_proc is None:
        return 1
    print(f"demo marketplaces (month {month}) on http://127.0.0.1:{port}-{port + len(SITE_ORDER) - 1}")
    when = survey_date(month)
    log = settings.var_dir / "log" / f"demo-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    try:
        print(f"running DAG wildwatch_monthly_survey for {when:%Y-%m} (airflow dags test) ...")
        result = dagtest.run("wildwatch_monthly_survey", log, logical_date=when,
                             extra_env={"WILDWATCH_DEMO_PORT": str(port)}, settings=settings)
    finally:
        sites_proc.terminate()
        sites_proc.wait(10)
    with db.transaction() as conn:
        ok = demo_report.print_report(conn, month=month)
    login = _demo_login(settings)
    review_port = ports.get("review", settings.var_dir)
    print(f"\nreview app: .venv/bin/wildwatch review  -> http://127.0.0.1:{review_port} (or the free port it prints)  "
          f"login: {login}")
    reports = sorted(settings.reports_dir.glob("*/report-*.html"), key=lambda p: p.stat().st_mtime)
    if reports:
        print(f"monthly report: {reports[-1]}  (also under Reports in the review app)")
    print(f"Airflow log: {log}")
    print(f"wall time: {time.monotonic() - started:.0f} s")
    if month == 1:
        print("next: decide the queue in the review app, then `.venv/bin/wildwatch airflow test wildwatch_ranker` "
              "(the ranker learns from the decisions) and `.venv/bin/wildwatch demo --month 2`")
    else:
        print("next: the month's report (its missed-offer estimate under 'What the filter missed'): "
              f".venv/bin/wildwatch report --month {when:%Y-%m}")
    if result.returncode != 0 or result.failed:
        print(f"wildwatch: the DAG run failed (exit {result.returncode}; failed tasks: "
              f"{', '.join(result.failed) or 'none recorded'}); see {log}", file=sys.stderr)
        return 1
    return 0 if ok else 1
