"""Listing lifecycle across real monthly crawls of a demo marketplace: new, seen again, gone."""
import datetime as dt

from test_crawl import crawl
from wildwatch import lifecycle, runs


def monthly_run(conn, key: str, month: dt.date) -> int:
    with conn:
        return runs.ensure_run(conn, key, "monthly", month)


def statuses(conn) -> dict[str, tuple]:
    with conn.cursor() as cur:
        cur.execute("SELECT split_part(url, '/', 5), status, gone_reason, gone_run_id FROM listings")
        return {row[0]: row[1:] for row in cur.fetchall()}


def test_listings_not_found_by_the_next_monthly_run_are_gone(crawl_env, conn, takedowns):
    first = monthly_run(conn, "lifecycle-1", dt.date(2026, 10, 1))
    crawl("demo_vn", crawl_env, "-a", f"run_id={first}")
    before = statuses(conn)
    assert before and all(v[0] == "active" for v in before.values())
    assert lifecycle.run_counts(conn, first) == {"new": len(before), "seen_again": 0, "gone": 0}

    taken_down = sorted(before)[:3]
    takedowns.remove("demo_vn", taken_down)
    second = monthly_run(conn, "lifecycle-2", dt.date(2026, 11, 1))
    crawl("demo_vn", crawl_env, "-a", f"run_id={second}")
    after = statuses(conn)
    assert {k for k, v in after.items() if v[0] == "gone"} == set(taken_down)
    assert all(after[k] == ("gone", "not_found", second) for k in taken_down)
    assert lifecycle.run_counts(conn, second) == {"new": 0, "seen_again": len(before) - 3, "gone": 3}

    # Back on the site next month: active again.
    takedowns.restore()
    third = monthly_run(conn, "lifecycle-3", dt.date(2026, 12, 1))
    crawl("demo_vn", crawl_env, "-a", f"run_id={third}")
    assert all(v == ("active", None, None) for v in statuses(conn).values())


def test_partial_or_manual_crawls_never_mark_listings_gone(crawl_env, conn, takedowns):
    first = monthly_run(conn, "lifecycle-a", dt.date(2026, 10, 1))
    crawl("demo_tz", crawl_env, "-a", f"run_id={first}")
    takedowns.remove("demo_tz", ["tz0001", "tz0002"])
    crawl("demo_tz", crawl_env)  # manual run
    second = monthly_run(conn, "lifecycle-b", dt.date(2026, 11, 1))
    crawl("demo_tz", crawl_env, "-a", f"run_id={second}", "-a", "groups=ivory")
    assert all(v[0] == "active" for v in statuses(conn).values())
    record = runs.site_crawl(conn, second, "demo_tz")
    with conn.cursor() as cur:
        cur.execute("SELECT stats->'lifecycle' FROM site_crawls WHERE run_id = %s", (second,))
        assert cur.fetchone()[0] == {"skipped": "searched only some groups or queries"}, record
