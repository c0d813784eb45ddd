"""Database access: connection with readable errors, and the numbered SQL migrations in sql/."""
from __future__ import annotations

import re
from contextlib import contextmanager
from importlib import resources
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extras

from wildwatch import config, ports
from wildwatch.localpg import LocalCluster

MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
# Any constant works; it only has to be the same in every process that migrates.
MIGRATION_LOCK_KEY = 0x77696C64


class DatabaseUnavailable(RuntimeError):
    """Raised with a one-line, password-free message naming the database that could not be reached."""


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def local_cluster(settings: config.Settings | None = None) -> LocalCluster:
    settings = settings or config.load()
    # Unless WILDWATCH_PG_PORT fixes it, a port another checkout holds is traded for a free one (kept in
    # var/ports.json, so later commands connect to the same cluster).
    repick = None if ports.fixed("pg") else (lambda: ports.claim("pg", settings.var_dir))
    return LocalCluster(settings.pg_data, settings.pg_port, repick=repick)


def database_url(settings: config.Settings | None = None) -> str:
    settings = settings or config.load()
    if settings.database_url:
        return settings.database_url
    return local_cluster(settings).url("wildwatch")


def connect(url: str | None = None, **kwargs):
    url = url or database_url()
    try:
        return psycopg2.connect(url, connect_timeout=10, application_name="wildwatch", **kwargs)
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DatabaseUnavailable(f"cannot connect to {mask_url(url)}: {reason}") from exc


@contextmanager
def transaction(url: str | None = None):
    conn = connect(url)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def run_in_transaction(url: str, work, attempts: int = 3, pause_s: float = 0.5):
    """work(conn) in one transaction on a fresh connection, retried when the connection is lost (a
    server restart, a killed session). Raises DatabaseUnavailable when every attempt failed."""
    import time

    last = None
    for attempt in range(attempts):
        try:
            with transaction(url) as conn:
                return work(conn)
        except (psycopg2.OperationalError, psycopg2.InterfaceError, DatabaseUnavailable) as exc:
            last = exc
            time.sleep(pause_s * (attempt + 1))
    if isinstance(last, DatabaseUnavailable):
        raise last
    reason = str(last).strip().splitlines()[0] if last and str(last).strip() else type(last).__name__
    raise DatabaseUnavailable(f"lost connection to {mask_url(url)}: {reason}") from last


def migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("wildwatch.sql").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def migrate(conn) -> list[str]:
    """Apply every migration not yet recorded, each in its own transaction; return the names applied."""
    applied_now = []
    with conn, conn.cursor() as cur:
        cur.execute("""CREATE TABLE IF NOT EXISTS schema_migrations (
                           version integer PRIMARY KEY, name text NOT NULL,
                           applied_at timestamptz NOT NULL DEFAULT now())""")
    for version, name, sql in migrations():
        with conn, conn.cursor() as cur:
            # Two migrators at once (two DAG tasks, a test and a CLI) must not both apply a file.
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            cur.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version,))
            if cur.fetchone():
                continue
            cur.execute(sql)
            cur.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied_now.append(name)
    return applied_now


def start_local(settings: config.Settings) -> str:
    """Starts the self-managed cluster (on another port when its own is taken) and returns its URL."""
    cluster = local_cluster(settings)
    cluster.start()
    return cluster.url("wildwatch")


def ready(settings: config.Settings | None = None) -> str:
    """The database, up and migrated: the self-managed cluster is started when no URL is configured.
    Returns its URL."""
    settings = settings or config.load()
    url = start_local(settings) if settings.manages_local_db else database_url(settings)
    conn = connect(url)
    try:
        migrate(conn)
    finally:
        conn.close()
    return url


def applied_versions(conn) -> list[int]:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass('schema_migrations')")
        if cur.fetchone()[0] is None:
            return []
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        return [row[0] for row in cur.fetchall()]


def dict_cursor(conn):
    return conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor)
