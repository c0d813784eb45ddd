"""The survey's tasks, as plain functions: the DAG files only wire them together.

Each crawl runs as a `scrapy crawl` subprocess: a Twisted reactor cannot restart inside one task process
(all tasks share one process under `airflow dags test`).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import subprocess
import sys

from wildwatch import config, db, runs, sites

log = logging.getLogger(__name__)
CRAWL_TIMEOUT_S = int(os.environ.get("WILDWATCH_CRAWL_TIMEOUT", str(6 * 3600)))


class CrawlFailed(RuntimeError):
    pass


def _as_list(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def start_run(run_key: str, kind: str, logical_date: dt.date, params: dict | None = None) -> int:
    conn = db.connect()
    try:
        db.migrate(conn)
        with conn:
            return runs.ensure_run(conn, run_key, kind, logical_date, params or {})
    finally:
        conn.close()


def plan_sites(run_id: int, params: dict | None = None) -> list[dict]:
    """One crawl target per enabled site, narrowed by the survey's countries and sites."""
    params = params or {}
    countries = {c.upper() for c in _as_list(params.get("countries"))}
    wanted = set(_as_list(params.get("sites")))
    groups = _as_list(params.get("product_groups"))
    known = sites.site_files()
    unknown = wanted - set(known)
    if unknown:
        raise ValueError(f"unknown sites requested: {sorted(unknown)}; known: {sorted(known)}")
    targets = []
    for site in sites.load_all():
        if wanted and site.name not in wanted:
            continue
        if not wanted and not site.enabled:
            continue
        if countries and site.country not in countries:
            continue
        targets.append({"site": site.name, "country": site.country, "run_id": run_id, "groups": groups})
    log.info("survey run %s: %d sites to crawl: %s", run_id, len(targets), ", ".join(t["site"] for t in targets))
    return targets


def _jobdir(target: dict):
    return config.load().var_dir / "jobs" / f"run{target['run_id']}-{target['site']}"


def crawl_command(target: dict) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={target['site']}",
           "-a", f"run_id={target['run_id']}"]
    if target.get("groups"):
        cmd += ["-a", "groups=" + ",".join(target["groups"])]
    # A crawl killed mid-way (worker lost, task retried) resumes where it stopped instead of starting over.
    cmd += ["-s", f"JOBDIR={_jobdir(target)}"]
    return cmd


def run_scrapy(cmd: list[str], timeout_s: int) -> int:
    """A crawl in its own process (Scrapy's reactor cannot restart inside a task), its log in the task's log;
    killed and TimeoutExpired raised when it runs too long."""
    log.info("running %s", " ".join(cmd))
    proc = subprocess.Popen(cmd, cwd=config.PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, encoding="utf-8", errors="replace")
    try:
        for line in proc.stdout:
            log.info("%s", line.rstrip())
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def crawl_site(target: dict) -> dict:
    """Crawl one site; raise CrawlFailed (the mapped task goes red) with the reason the crawl recorded."""
    try:
        returncode = run_scrapy(crawl_command(target), CRAWL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CrawlFailed(f"{target['site']}: crawl exceeded {CRAWL_TIMEOUT_S} s and was killed") from None
    worker = os.environ.get("WILDWATCH_WORKER") or socket.gethostname()
    with db.transaction() as conn:
        runs.record_worker(conn, target["run_id"], target["site"], worker)
        record = runs.site_crawl(conn, target["run_id"], target["site"])
    if record is None:
        raise CrawlFailed(f"{target['site']}: crawl exited {returncode} without recording a result")
    if record.get("finish_reason") == "finished":
        # Done: a later re-run of this task must crawl afresh, not "resume" a finished job and fetch nothing.
        shutil.rmtree(_jobdir(target), ignore_errors=True)
    if returncode != 0 and record["status"] == "running":
        raise CrawlFailed(f"{target['site']}: crawl process exited {returncode}")
    if record["status"] != "succeeded":
        raise CrawlFailed(f"{target['site']}: {record['reason']}")
    log.info("%s: %s pages, %s listings, %s queued", target["site"], record["pages_fetched"],
             record["listings_seen"], record["candidates_queued"])
    return record


def summarize(run_id: int) -> dict:
    with db.transaction() as conn:
        summary = runs.summarize_run(conn, run_id)
    for s in summary["sites"]:
        log.info("%-10s %-9s pages=%-4d listings=%-4d queued=%-4d %s", s["site"], s["status"], s["pages_fetched"],
                 s["listings_seen"], s["candidates_queued"], s["reason"] or "")
    log.info("run %s: %s", run_id, summary["status"])
    if summary["status"] != "succeeded":
        # Recorded above; failing here turns the whole DAG run red for whoever watches the UI.
        failed = [s["site"] for s in summary["sites"] if s["status"] != "succeeded"]
        raise CrawlFailed(f"survey run {run_id} is {summary['status']}: failed sites: {', '.join(failed) or 'none planned'}")
    return summary


def write_report(run_id: int) -> str:
    """The report of the run's survey month, in the reports folder; returns the HTML's path."""
    from wildwatch.report.build import build_report, write

    settings = config.load()
    with db.transaction() as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT period FROM crawl_runs WHERE id = %s", (run_id,))
            period = cur.fetchone()[0]
    conn = db.connect()
    try:
        report = build_report(conn, f"{period:%Y-%m}")
    finally:
        conn.close()
    files = write(report, settings.reports_dir / report.label)
    log.info("report written: %s", files["html"])
    return str(files["html"])
