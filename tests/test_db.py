import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

import scratch_dirs

from wildwatch import db, ports
from wildwatch.localpg import LocalCluster

from helpers import free_port


def test_migrations_are_recorded_and_idempotent(conn):
    assert db.applied_versions(conn) == [v for v, _, _ in db.migrations()]
    assert db.migrate(conn) == []
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM schema_migrations")
        assert cur.fetchone()[0] == len(db.migrations())


def test_schema_has_the_survey_tables(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {r[0] for r in cur.fetchall()}
    assert {"sites", "keywords", "crawl_runs", "site_crawls", "listings", "sightings", "keyword_matches",
            "review_queue", "review_decisions"} <= tables


def test_one_listing_row_per_url_and_one_sighting_per_run(conn):
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES ('s', 'VN', '{vi}', 'http://x') RETURNING id")
        site = cur.fetchone()[0]
        cur.execute("INSERT INTO crawl_runs (run_key, kind, period) VALUES ('r', 'manual', '2026-11-01') RETURNING id")
        run = cur.fetchone()[0]
        cur.execute("INSERT INTO listings (site_id, url, title) VALUES (%s, 'http://x/1', 't') RETURNING id", (site,))
        listing = cur.fetchone()[0]
        cur.execute("INSERT INTO sightings (listing_id, run_id, title) VALUES (%s, %s, 't')", (listing, run))
    with pytest.raises(psycopg2.errors.UniqueViolation):
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO listings (site_id, url, title) VALUES (%s, 'http://x/1', 'again')", (site,))
    with pytest.raises(psycopg2.errors.UniqueViolation):
        with conn, conn.cursor() as cur:
            cur.execute("INSERT INTO sightings (listing_id, run_id, title) VALUES (%s, %s, 't')", (listing, run))


def test_unreachable_database_gives_one_line_with_the_password_masked():
    url = f"postgresql://wildwatch:s3cret-pw@127.0.0.1:{free_port()}/wildwatch"
    with pytest.raises(db.DatabaseUnavailable) as info:
        db.connect(url)
    message = str(info.value)
    assert "s3cret-pw" not in message and "***" in message and "127.0.0.1" in message
    result = subprocess.run([sys.executable, "-m", "wildwatch.cli", "queue", "list"], capture_output=True,
                            text=True, env={**os.environ, "WILDWATCH_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "cannot connect" in result.stderr
    assert "s3cret-pw" not in result.stderr and "Traceback" not in result.stderr


def test_local_cluster_start_status_stop_on_loopback_with_a_password():
    home = scratch_dirs.make("lc")
    cluster = LocalCluster(home / "pg", free_port(), fsync=False)
    assert "not initialised" in cluster.status()
    cluster.start()
    try:
        assert cluster.status().startswith("running")
        assert (home / "pg.password").stat().st_mode & 0o077 == 0
        conn = psycopg2.connect(cluster.url("wildwatch"))
        with conn.cursor() as cur:
            cur.execute("SHOW listen_addresses")
            assert cur.fetchone()[0] == "127.0.0.1"
        conn.close()
        wrong = cluster.url("wildwatch").replace(cluster.password, "wrong")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(wrong)
        cluster.start()  # idempotent
    finally:
        cluster.stop()
    assert cluster.status().startswith("stopped")
    scratch_dirs.remove(home)


def test_db_cli_migrate_against_an_external_url(database_url):
    env = {**os.environ, "WILDWATCH_DATABASE_URL": database_url}
    out = subprocess.run([sys.executable, "-m", "wildwatch.cli", "db", "migrate"], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert "schema up to date" in out
    status = subprocess.run([sys.executable, "-m", "wildwatch.cli", "db", "status"], env=env,
                            capture_output=True, text=True, check=True).stdout
    assert "external database" in status and "***" in status


@pytest.mark.skipif(os.geteuid() != 0, reason="exercises the non-root path by switching to the postgres user")
def test_local_cluster_also_works_when_not_root():
    python = sys.executable
    reachable = subprocess.run(["runuser", "-u", "postgres", "--", python, "-c", "import wildwatch"],
                               capture_output=True, cwd="/", env={"PYTHONPATH": str(Path(__file__).parents[1]),
                                                                    "PATH": os.environ["PATH"]})
    if reachable.returncode != 0:
        pytest.skip("the postgres user cannot reach this checkout's virtual env (e.g. a clone under /root)")
    home = scratch_dirs.make("nonroot")
    subprocess.run(["chown", "postgres:postgres", str(home)], check=True)
    code = ("from wildwatch.localpg import LocalCluster; import sys; c = LocalCluster(sys.argv[1], int(sys.argv[2]), "
            "fsync=False); c.start(); print(c.status()); c.stop(); print(c.status())")
    try:
        result = subprocess.run(["runuser", "-u", "postgres", "--", python, "-c", code, str(home / "pg"),
                                 str(free_port())], capture_output=True, text=True, cwd="/",
                                env={"PYTHONPATH": str(Path(__file__).parents[1]), "PATH": os.environ["PATH"]})
    finally:
        scratch_dirs.remove(home)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("running") and result.stdout.splitlines()[1].startswith("stopped")


def test_two_checkouts_each_start_their_own_database_on_its_own_port():
    """No WILDWATCH_PG_PORT: the second checkout finds 54329 (or whatever the first took) held and takes a free
    port, kept in its var/ports.json so its later commands reach its own cluster, not the other one."""
    homes = [scratch_dirs.make("co") for _ in range(2)]
    envs = [{**{k: v for k, v in os.environ.items() if k not in ("WILDWATCH_DATABASE_URL", "WILDWATCH_PG_PORT")},
             "WILDWATCH_VAR_DIR": str(home / "var")} for home in homes]

    def wildwatch(env, *args):
        return subprocess.run([sys.executable, "-m", "wildwatch.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    try:
        for env in envs:
            started = wildwatch(env, "db", "start")
            assert started.returncode == 0, started.stderr
        taken = [ports.get("pg", home / "var") for home in homes]
        assert taken[0] != taken[1]
        for env, port in zip(envs, taken, strict=True):
            status = wildwatch(env, "db", "status").stdout
            assert status.startswith("PostgreSQL running") and f"127.0.0.1:{port}" in status, status
            assert wildwatch(env, "queue", "list").returncode == 0  # its own password, its own cluster
    finally:
        for env in envs:
            wildwatch(env, "db", "stop")
        for home in homes:
            scratch_dirs.remove(home)
