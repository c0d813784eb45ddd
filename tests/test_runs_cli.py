"""`wildwatch runs list|show`: runs, their state, and each site's verdict with its reason."""
import json

from wildwatch import cli, runs


def seed(conn):
    with conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO sites (name, country, languages, base_url) VALUES
                       ('demo_vn', 'VN', '{vi}', 'http://x'), ('demo_tz', 'TZ', '{sw}', 'http://y') RETURNING id""")
        vn, tz = (r[0] for r in cur.fetchall())
        cur.execute("""INSERT INTO crawl_runs (run_key, kind, period, status, started_at) VALUES
                       ('scheduled__2026-11-01', 'monthly', '2026-11-01', 'running', '2026-11-01 04:00'),
                       ('manual__2026-10', 'monthly', '2026-10-01', 'succeeded', '2026-10-01 04:00') RETURNING id""")
        nov, oct_ = (r[0] for r in cur.fetchall())
        cur.execute("""INSERT INTO site_crawls (run_id, site_id, status, reason, pages_fetched, listings_seen,
                                                candidates_queued, finished_at) VALUES
                       (%(n)s, %(vn)s, 'succeeded', NULL, 40, 30, 12, now()),
                       (%(n)s, %(tz)s, 'failed', 'HTTP 500 x2 (the site answered with errors)', 2, 0, 0, now()),
                       (%(o)s, %(vn)s, 'succeeded', NULL, 38, 29, 11, now())""", {"n": nov, "o": oct_, "vn": vn, "tz": tz})
        runs.summarize_run(conn, nov, ["demo_xx"])
    return nov, oct_


def test_runs_list_and_show_give_each_sites_verdict_and_reason(conn, database_url, capsys):
    nov, oct_ = seed(conn)
    assert cli.main(["runs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["sites"], r["sites_ok"]) for r in listed] == [(nov, "partial", 2, 1),
                                                                                  (oct_, "succeeded", 1, 1)]
    assert cli.main(["runs", "list"]) == 0
    text = capsys.readouterr().out
    assert "partial" in text and "1/2" in text and "scheduled__2026-11-01" in text
    # a partial run says so in its exit status too (scripts and cron can alert on it)
    assert cli.main(["runs", "show", "scheduled__2026-11-01"]) == 3
    text = capsys.readouterr().out
    assert "HTTP 500 x2 (the site answered with errors)" in text and "demo_xx" in text and "plan task failed" in text
    assert cli.main(["runs", "show", str(oct_), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "succeeded" and [s["site"] for s in shown["sites"]] == ["demo_vn"]
    assert cli.main(["runs", "show", "nope"]) == 1


def test_a_crawl_for_a_run_that_does_not_exist_stops_at_once_and_spools_nothing(crawl_env, conn):
    import subprocess
    import sys
    from pathlib import Path

    from test_crawl import ROOT

    done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_tz",
                           "-a", "run_id=999"], cwd=ROOT, env=crawl_env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "no survey run 999" in done.stderr
    spool = Path(crawl_env["WILDWATCH_VAR_DIR"]) / "spool"
    assert not spool.exists() or not list(spool.glob("*.jsonl"))
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM listings")
        assert cur.fetchone()[0] == 0


def test_a_crawl_into_a_new_empty_database_migrates_it_first(crawl_env, pg_cluster):
    import psycopg2

    from test_crawl import crawl

    admin = psycopg2.connect(pg_cluster.url("postgres"))
    admin.autocommit = True
    name = f"bare_{__import__('os').getpid()}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        done = crawl("demo_tz", {**crawl_env, "WILDWATCH_DATABASE_URL": pg_cluster.url(name)})
        assert done.returncode == 0, done.stderr[-2000:]
        assert "UndefinedTable" not in done.stderr and "AssertionError" not in done.stderr
        with psycopg2.connect(pg_cluster.url(name)) as fresh, fresh.cursor() as cur:
            cur.execute("SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM site_crawls")
            assert cur.fetchone() == (1, 1)
            cur.execute("SELECT count(*) FROM listings")
            assert cur.fetchone()[0] > 0
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_run_by_hand_for_a_month_that_is_not_one_is_refused_in_a_line(database_url, capsys):
    for bad in ("2026-13", "2026-1\x00", "９９９９-01", "x" * 5000):
        assert cli.main(["runs", "new", "--month", bad]) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: --month is a month, YYYY-MM") and "Traceback" not in err
    assert cli.main(["runs", "new", "--month", "2026-11"]) == 0
