"""A scratch database for a benchmark: created fresh on the project's own PostgreSQL, migrated, dropped at
the end. Benchmarks never write into the survey database (their runs would become the sites' "previous
run", which crawl health compares against)."""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg2  # noqa: E402

from wildwatch import config, db  # noqa: E402


@contextlib.contextmanager
def scratch_database(name: str):
    """Yields the scratch database's URL, also set as WILDWATCH_DATABASE_URL for this process and its
    children."""
    settings = config.load()
    if not settings.manages_local_db:
        raise SystemExit("benchmarks use scratch databases on the project's own PostgreSQL; "
                         "unset WILDWATCH_DATABASE_URL")
    cluster = db.local_cluster(settings)
    cluster.start()
    admin = psycopg2.connect(cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    url = cluster.url(name)
    conn = psycopg2.connect(url)
    db.migrate(conn)
    conn.close()
    os.environ["WILDWATCH_DATABASE_URL"] = url
    try:
        yield url
    finally:
        os.environ.pop("WILDWATCH_DATABASE_URL", None)
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
