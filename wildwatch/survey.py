"""The survey's tasks, as plain functions: the DAG files only wire them together.

Each crawl runs as a `scrapy crawl` subprocess: a Twisted reactor cannot restart inside one task process
(all tasks share one process under `airflow dags test`).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import sys

from wildwatch import config, db, keywords, runs, shards, sites

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


def check_params(params: dict) -> None:
    """Fail the run at its start, not site by site, when it names a site that has no file."""
    unknown = set(_as_list(params.get("sites"))) - set(sites.site_files())
    if unknown:
        raise ValueError(f"unknown sites requested: {sorted(unknown)}; known: {sorted(sites.site_files())}")


def start_run(run_key: str, kind: str, logical_date: dt.date, params: dict | None = None) -> int:
    check_params(params or {})
    conn = db.connect()
    try:
        db.migrate(conn)
        with conn:
            return runs.ensure_run(conn, run_key, kind, logical_date, params or {})
    finally:
        conn.close()


def plan_site(run_id: int, name: str, params: dict | None = None) -> list[dict]:
    """The site's crawl targets in this survey, one per keyword shard; none when the survey leaves it out
    (disabled and not asked for by name, or another country)."""
    params = params or {}
    settings = config.load()
    site = sites.load(name)
    countries = {c.upper() for c in _as_list(params.get("countries"))}
    wanted = set(_as_list(params.get("sites")))
    groups = _as_list(params.get("product_groups"))
    if (wanted and name not in wanted) or (not wanted and not site.enabled) \
            or (countries and site.country not in countries):
        log.info("survey run %s leaves %s out", run_id, name)
        return []
    terms = keywords.load(settings.keywords_dir).search_queries(site.languages, groups)
    count = shards.count(len(terms), settings.shard_size)
    log.info("survey run %s: %s, %d search terms in %d shards of up to %d", run_id, name, len(terms), count,
             settings.shard_size)
    return [{"site": name, "country": site.country, "run_id": run_id, "groups": groups, "shard": k,
             "shards": count} for k in range(count)]


def _jobdir(target: dict):
    # Named by the split too: a retry after the shard size changed must not resume another split's job.
    split = f"{target.get('shard', 0) + 1}of{target.get('shards', 1)}"
    return config.load().var_dir / "jobs" / f"run{target['run_id']}-{target['site']}-{split}"


def crawl_command(target: dict) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={target['site']}",
           "-a", f"run_id={target['run_id']}", "-a", f"shard={target.get('shard', 0)}",
           "-a", f"shards={target.get('shards', 1)}"]
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


def shard_label(target: dict) -> str:
    shard = f" {target['shard'] + 1}/{target['shards']}" if target.get("shards", 1) > 1 else ""
    return f"{target['site']}{shard} ({target['country']})"


def crawl_shard(target: dict) -> dict:
    """Crawl one shard of a site's terms; raise CrawlFailed (the mapped task goes red) with the reason the
    crawl recorded, for the shard or, when this shard was the site's last, for the site as a whole."""
    label = shard_label(target)
    try:
        returncode = run_scrapy(crawl_command(target), CRAWL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise CrawlFailed(f"{label}: crawl exceeded {CRAWL_TIMEOUT_S} s and was killed") from None
    with db.transaction() as conn:
        record = runs.shard_crawl(conn, target["run_id"], target["site"], target.get("shard", 0))
        site = runs.site_crawl(conn, target["run_id"], target["site"])
    if record is None:
        raise CrawlFailed(f"{label}: crawl exited {returncode} without recording a result")
    if record.get("finish_reason") == "finished":
        # Done: a later re-run of this task must crawl afresh, not "resume" a finished job and fetch nothing.
        shutil.rmtree(_jobdir(target), ignore_errors=True)
    if returncode != 0 and record["status"] == "running":
        raise CrawlFailed(f"{label}: crawl process exited {returncode}")
    if record["status"] != "succeeded":
        raise CrawlFailed(f"{label}: {record['reason']}")
    if site and site["finished"] and site["status"] != "succeeded":
        raise CrawlFailed(f"{target['site']}: {site['reason']}")
    log.info("%s: %s pages, %s listings, %s queued, on %s", label, record["pages_fetched"], record["items"],
             record["queued"], record["worker"])
    return record


def summarize(run_id: int, unplanned: list[str] | None = None) -> dict:
    """The run's record and status; unplanned: sites whose plan task failed (a broken site file), which
    never got as far as a crawl record but must not leave the run looking complete."""
    with db.transaction() as conn:
        summary = runs.summarize_run(conn, run_id, unplanned or [])
    for s in summary["sites"]:
        log.info("%-10s %-9s pages=%-4s listings=%-4s queued=%-4s %s", s["site"], s["status"], s["pages_fetched"],
                 s["listings_seen"], s["candidates_queued"], s["reason"] or "")
    log.info("run %s: %s", run_id, summary["status"])
    if summary["status"] != "succeeded":
        # Recorded above; failing here turns the whole DAG run red for whoever watches the UI.
        failed = [s["site"] for s in summary["sites"] if s["status"] != "succeeded"]
        raise CrawlFailed(f"survey run {run_id} is {summary['status']}: failed sites: {', '.join(failed) or 'none planned'}")
    return summary


def verdict(run_id: int) -> str:
    """The survey's last word: a run with a failed or unplanned site fails this task, so the Airflow run is red
    (not green because the tasks after the crawls, which run whatever happened, succeeded)."""
    with db.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT status, summary FROM crawl_runs WHERE id = %s", (run_id,))
        row = cur.fetchone()
    if row is None:
        raise CrawlFailed(f"survey run {run_id} has no record")
    status, summary = row
    if status != "succeeded":
        failed = [f"{s['site']} ({s.get('reason') or s['status']})" for s in (summary or {}).get("sites", [])
                  if s["status"] != "succeeded"]
        raise CrawlFailed(f"survey run {run_id} is {status}: {'; '.join(failed) or 'no site completed'}"[:2000])
    return status


def link_sellers() -> dict:
    """Rebuild the seller networks (listings sharing a contact or a seller account); ids stay stable."""
    from wildwatch.networks import store

    with db.transaction() as conn, conn.cursor() as cur:
        return store.relink(cur)


def read_photos(run_id: int) -> dict:
    """Read the text on this run's candidates' photos (contacts painted over the product), before networks
    are linked."""
    from wildwatch import photo_text
    from wildwatch.evidence.store import open_store

    settings = config.load()
    conn = db.connect()
    try:  # read_pending commits photo by photo: what was read stays read if the task is stopped
        return photo_text.read_pending(conn, open_store(settings.evidence_store), run_id,
                                       budget_s=settings.ocr_budget_s)
    finally:
        conn.close()


def audit_sample(run_id: int) -> dict:
    """Queue the run's blind audit sample of unqueued listings (idempotent), with evidence for the items the
    crawl kept none for."""
    from wildwatch.evidence import late
    from wildwatch.ranker import audit

    with db.transaction() as conn:
        drawn = audit.draw(conn, run_id)
    with db.transaction() as conn:
        drawn["captured_when_drawn"] = late.capture_missing(conn, run_id)
    drawn["photos_read"] = read_photos(run_id)  # sampled items' photos are read like queued ones
    return drawn


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
