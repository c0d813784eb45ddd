"""Test session: a real PostgreSQL cluster (one per session, a database cloned from a migrated template
per test) and the demo marketplaces on free ports."""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

import scratch_dirs
from helpers import free_port, settings_for
from wildwatch import db
from wildwatch.airflow_env import airflow_env, migrate as airflow_migrate
from wildwatch.demo.server import DemoMarketplaces
from wildwatch.locals3 import LocalS3
from wildwatch.localpg import LocalCluster

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE = "wildwatch_template"
_counter = itertools.count()


_before: set[Path] = set()
# The production stack's test builds images and runs containers for ~20 minutes: `make stack-test` only.
collect_ignore = [] if os.environ.get("WILDWATCH_STACK_TEST") else ["stack"]


def _terminate(signum, frame):
    # SIGTERM (a CI timeout, `kill`) ends the run like Ctrl-C does: fixtures and the session finish run.
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionstart(session):
    for home in scratch_dirs.reap():
        print(f"removed {home}: left by a test run that is gone")
    _before.update(scratch_dirs.present())
    signal.signal(signal.SIGTERM, _terminate)


def pytest_sessionfinish(session, exitstatus):
    scratch_dirs.remove_owned()  # whatever an interrupted run did not get to
    left = scratch_dirs.owned_by(os.getpid())  # ours only: another run may be working beside this one
    # An xdist worker answers for its own folders (its siblings may still be running); the controller, which
    # finishes last, for everything that appeared during the run.
    created = set() if os.environ.get("PYTEST_XDIST_WORKER") else scratch_dirs.present() - _before
    servers = scratch_dirs.servers_under(left | created)
    if left or servers:
        print(f"\nERROR: this test run left {sorted(map(str, left))} and servers {servers} behind", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config, items):
    # The longest tests first (Airflow end to end, then Chromium), so that the two pytest-xdist workers, handed
    # tests two at a time (`--maxschedchunk 2` in the Makefile), end together on short ones instead of one
    # worker finishing a three-minute test alone. Each worker has its own PostgreSQL, demo marketplaces and
    # Airflow metadata. (An `xdist_group` would keep the Airflow tests on one worker, but pytest-xdist 3.8
    # groups by rewriting item._nodeid, which pytest 9 no longer reads: they have run side by side since.)
    def weight(item) -> int:
        if item.get_closest_marker("longest"):
            return -1  # the walk-through and the cluster, 3-4 minutes each: one per worker, at the start
        return 0 if item.get_closest_marker("airflow") else 1 if item.get_closest_marker("browser") else 2

    items.sort(key=weight)  # stable: file order within each kind


@pytest.fixture(scope="session")
def pg_cluster():
    with scratch_dirs.scratch("pg") as home:
        cluster = LocalCluster(home / "data", free_port(), fsync=False)
        try:
            cluster.start()
            cluster.create_databases([TEMPLATE])
            conn = psycopg2.connect(cluster.url(TEMPLATE))
            try:
                db.migrate(conn)
            finally:
                conn.close()
            yield cluster
        finally:
            cluster.stop()


def _admin(cluster):
    conn = psycopg2.connect(cluster.url("postgres"))
    conn.autocommit = True
    return conn


@pytest.fixture
def database_url(pg_cluster, monkeypatch):
    """A fresh, migrated database for this test (cloned from the template in ~0.1 s)."""
    name = f"test_{os.getpid()}_{next(_counter)}"
    admin = _admin(pg_cluster)
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}" TEMPLATE {TEMPLATE}')
    url = pg_cluster.url(name)
    monkeypatch.setenv("WILDWATCH_DATABASE_URL", url)
    yield url
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def conn(database_url):
    connection = psycopg2.connect(database_url)
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-compatible server (SeaweedFS) on loopback for this session, with its own keys."""
    with scratch_dirs.scratch("s3") as home:
        server = LocalS3(home)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def s3_store_env(s3_server, monkeypatch):
    """WILDWATCH_EVIDENCE_STORE on a fresh bucket of the session's S3 server (for this test and its
    subprocesses)."""
    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    bucket = f"evidence-{os.getpid()}-{next(_counter)}"
    monkeypatch.setenv("WILDWATCH_EVIDENCE_STORE", f"s3://{bucket}/wildwatch")
    from wildwatch.evidence.store import open_store

    open_store().create_bucket()
    return f"s3://{bucket}/wildwatch"


@pytest.fixture(scope="session")
def demo_market():
    demo = DemoMarketplaces(base_port=0)
    demo.start()
    yield demo
    demo.stop()


@pytest.fixture(scope="session")
def demo_sites(demo_market):
    return demo_market.urls()


@pytest.fixture
def takedowns(demo_market):
    """The demo marketplaces, whose listings this test may take down; restored afterwards."""
    yield demo_market
    demo_market.restore()


@pytest.fixture
def crawl_env(database_url, demo_sites, tmp_path, monkeypatch):
    """Environment for crawls and DAG runs in subprocesses: the test database and demo ports."""
    monkeypatch.setenv("WILDWATCH_VAR_DIR", str(tmp_path / "var"))
    for name, url in demo_sites.items():
        monkeypatch.setenv(f"WILDWATCH_BASE_URL__{name.upper()}", url)
    return dict(os.environ)


@pytest.fixture(scope="session")
def airflow_metadata(pg_cluster, tmp_path_factory):
    name = f"airflow_{os.getpid()}"
    pg_cluster.create_databases([name])
    home = tmp_path_factory.mktemp("airflow")
    env = {"AIRFLOW_HOME": str(home), "WILDWATCH_AIRFLOW_DATABASE_URL": pg_cluster.url(name)}
    full = {**os.environ, **env, "WILDWATCH_DATABASE_URL": pg_cluster.url("postgres")}
    full.update(airflow_env(settings_for(full)))
    assert airflow_migrate(full, subprocess.DEVNULL) == 0
    return env
