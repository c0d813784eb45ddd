"""What the referral and follow-up DAGs' tasks do, kept out of the DAG files (which Airflow parses often)."""
from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys

from wildwatch import db
from wildwatch.referrals import followup

log = logging.getLogger(__name__)
CHECK_TIMEOUT_S = 6 * 3600


class FollowupFailed(RuntimeError):
    pass


def month_of(params: dict, logical: dt.datetime | None) -> str:
    """The survey month to refer: the month param, or the month of the run's logical date."""
    month = (params.get("month") or "").strip()
    if month:
        return month
    return (logical or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m")


def approval_body(packages: list[dict]) -> str:
    lines = ["| referral | platform | listings | package SHA-256 |", "|---|---|---|---|"]
    lines += [f"| {p['id']} | {p['recipient']} | {p['items']} | `{p['sha256']}` |" for p in packages]
    return ("Approve to mark these packages ready to send; reject to leave them in draft.\n\n" + "\n".join(lines))


def check_referred_listings() -> dict:
    """Run the takedown spider in its own process (Scrapy's reactor cannot restart inside a task)."""
    from wildwatch.survey import run_scrapy

    try:
        returncode = run_scrapy([sys.executable, "-m", "scrapy", "crawl", "takedown"], CHECK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise FollowupFailed(f"takedown checks exceeded {CHECK_TIMEOUT_S} s") from None
    if returncode != 0:
        raise FollowupFailed(f"takedown spider exited {returncode}")
    with db.transaction() as conn:
        with conn.cursor() as cur:
            cur.execute("""SELECT outcome, count(*) FROM takedown_checks
                           WHERE checked_at > now() - interval '1 day' GROUP BY outcome""")
            return dict(cur.fetchall())


def removal_stats() -> list[dict]:
    with db.transaction() as conn:
        rows = followup.stats_by_platform(conn)
    for r in rows:
        log.info("%s: %d referred, %d removed (%.0f%% within 7 days, %.0f%% within 30), median %s days",
                 r["key"], r["referred"], r["removed"], 100 * (r["share_removed_7d"] or 0),
                 100 * (r["share_removed_30d"] or 0),
                 "-" if r["median_days_to_removal"] is None else f"{r['median_days_to_removal']:.1f}")
    return [{k: (float(v) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
