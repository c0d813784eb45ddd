"""`wildwatch runs ...`: survey runs and, per run, each site's verdict and its reason, without reading SQL."""
from __future__ import annotations

import json
import sys

from wildwatch.db import dict_cursor
from wildwatch.commands import with_db

LIST = """
SELECT r.id, r.run_key, r.kind, to_char(r.period, 'YYYY-MM') AS month, r.status, r.started_at, r.finished_at,
       count(sc.id) AS sites, count(sc.id) FILTER (WHERE sc.status = 'succeeded') AS sites_ok,
       coalesce(sum(sc.pages_fetched), 0) AS pages, coalesce(sum(sc.listings_seen), 0) AS listings,
       coalesce(sum(sc.candidates_queued), 0) AS queued
FROM crawl_runs r LEFT JOIN site_crawls sc ON sc.run_id = r.id
GROUP BY r.id ORDER BY r.started_at DESC, r.id DESC LIMIT %s
"""
SITES = """
SELECT s.name AS site, s.country, sc.status, coalesce(sc.reason, '') AS reason, sc.pages_fetched AS pages,
       sc.listings_seen AS listings, sc.candidates_queued AS queued, sc.errors, sc.started_at, sc.finished_at,
       coalesce(sc.stats->'error_reasons', '{}'::jsonb) AS error_reasons,
       coalesce((SELECT jsonb_agg(jsonb_build_object('url', f.url, 'reason', f.reason) ORDER BY f.failed_at)
                 FROM (SELECT * FROM run_failed_pages f WHERE f.run_id = sc.run_id AND f.site_id = sc.site_id
                       ORDER BY f.failed_at LIMIT 20) f), '[]'::jsonb) AS failed_pages
FROM site_crawls sc JOIN sites s ON s.id = sc.site_id WHERE sc.run_id = %s ORDER BY s.name
"""


def list_runs(conn, limit: int = 50) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute(LIST, (limit,))
        return cur.fetchall()


def show_run(conn, key: str) -> dict | None:
    """A run by its id or its key (the Airflow run id), with its sites and the summary's unplanned sites."""
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT id, run_key, kind, to_char(period, 'YYYY-MM') AS month, status, params, started_at,
                              finished_at, summary FROM crawl_runs
                       WHERE run_key = %s OR (%s ~ '^[0-9]+$' AND id = %s::bigint)""",
                    (key, key, key if key.isdigit() else "0"))
        run = cur.fetchone()
        if run is None:
            return None
        cur.execute(SITES, (run["id"],))
        run["sites"] = cur.fetchall()
    seen = {s["site"] for s in run["sites"]}
    run["sites"] += [{"site": s["site"], "country": None, "status": s["status"], "reason": s["reason"], "pages": 0,
                      "listings": 0, "queued": 0, "errors": 0, "started_at": None, "finished_at": None,
                      "error_reasons": {}, "failed_pages": []}
                     for s in (run.pop("summary") or {}).get("sites", []) if s["site"] not in seen]
    return run


def cmd_list(args, settings) -> int:
    rows = with_db(settings, lambda conn: list_runs(conn, args.limit))
    if args.json:
        print(json.dumps(rows, default=str, indent=1))
        return 0
    if not rows:
        print("no survey runs yet")
        return 0
    print(f"{'id':>5}  {'month':7}  {'kind':7}  {'status':9}  {'sites ok':>8}  {'pages':>6}  {'listings':>8}  "
          f"{'queued':>6}  started           key")
    for r in rows:
        print(f"{r['id']:>5}  {r['month']:7}  {r['kind']:7}  {r['status']:9}  {r['sites_ok']:>3}/{r['sites']:<4}  "
              f"{r['pages']:>6}  {r['listings']:>8}  {r['queued']:>6}  {r['started_at']:%Y-%m-%d %H:%M}  {r['run_key']}")
    return 0


def cmd_show(args, settings) -> int:
    run = with_db(settings, lambda conn: show_run(conn, args.run))
    if run is None:
        print(f"wildwatch: no survey run {args.run!r} (`wildwatch runs list` shows them)", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(run, default=str, indent=1))
        return 0
    ended = f", ended {run['finished_at']:%Y-%m-%d %H:%M}" if run["finished_at"] else ", still running"
    print(f"run {run['id']} ({run['run_key']}): {run['kind']} survey of {run['month']}, {run['status']}; "
          f"started {run['started_at']:%Y-%m-%d %H:%M}{ended}")
    for s in run["sites"]:
        print(f"  {s['site']:<14} {s['status']:<9} pages {s['pages']:<5} listings {s['listings']:<5} "
              f"queued {s['queued']:<4} {s['reason']}")
        if s["errors"]:  # which requests failed and why (after Scrapy's retries)
            why = "; ".join(f"{k} x{v}" for k, v in sorted(s["error_reasons"].items(), key=lambda kv: -kv[1]))
            print(f"      {s['errors']} failed requests: {why or 'reasons not recorded'}")
            for page in s["failed_pages"]:
                print(f"      failed page {page['url']}: {page['reason']}")
    return 0 if run["status"] in ("succeeded", "running") else 3


def cmd_new(args, settings) -> int:
    import datetime as dt

    from wildwatch import runs
    from wildwatch.commands import fail
    from wildwatch.review.inputs import is_month

    if args.month and not is_month(args.month):
        return fail(f"--month is a month, YYYY-MM, not {args.month[:40]!r}")
    period = dt.date.fromisoformat(args.month + "-01") if args.month else None

    def work(conn):
        with conn:
            return runs.manual_run(conn, period)
    run_id = with_db(settings, work)
    print(run_id)
    print(f"run {run_id} started by hand: pass -a run_id={run_id} to each shard's crawl; it closes itself when "
          "the last site crawl ends", file=sys.stderr)
    return 0


def register(sub) -> None:
    p = sub.add_parser("runs", help="survey runs: their state, and each site's verdict and reason")
    rsub = p.add_subparsers(dest="runs_action", required=True)
    lst = rsub.add_parser("list", help="the latest runs, newest first")
    lst.add_argument("--limit", type=int, default=50)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)
    sh = rsub.add_parser("show", help="one run (its id or Airflow run id): every site, its verdict and reason")
    sh.add_argument("run")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
    new = rsub.add_parser("new", help="a run for crawls started by hand (shards of one site share it); prints its id")
    new.add_argument("--month", help="the survey month YYYY-MM (default: this month)")
    new.set_defaults(func=cmd_new)
