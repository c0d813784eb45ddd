"""Environment for Airflow processes run by the project (demo, tests, `make airflow`)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from wildwatch import config, db, ports


def _secret_file(path: Path, nbytes: int = 48) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


def airflow_cli() -> str:
    """The `airflow` command of this virtualenv (not whichever one PATH finds)."""
    import sys

    return str(Path(sys.executable).parent / "airflow")


def airflow_env(settings: config.Settings | None = None, api_port: int | None = None) -> dict[str, str]:
    settings = settings or config.load()
    api_port = api_port or settings.airflow_port
    log_port = ports.get("airflow_logs", settings.var_dir)
    home = settings.airflow_home
    if settings.airflow_database_url:
        meta_url = settings.airflow_database_url
    elif settings.database_url:
        raise config.ConfigError("WILDWATCH_DATABASE_URL is set: set WILDWATCH_AIRFLOW_DATABASE_URL too "
                                 "(Airflow keeps its metadata in a database of its own)")
    else:
        meta_url = db.local_cluster(settings).url("wildwatch_airflow")
    meta_url = meta_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    bin_dir = str(Path(__import__("sys").executable).parent)
    return {
        "AIRFLOW_HOME": str(home),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",  # `airflow standalone`-style launches need it
        "AIRFLOW__CORE__DAGS_FOLDER": str(config.PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(log_port + 1),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret_file(home / "jwt_secret", 64),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "PYTHONPATH": str(config.PROJECT_ROOT),
    }


def migrate(env: dict[str, str], out) -> int:
    """`airflow db migrate` on the metadata database of `env`, output to `out` (a file or DEVNULL); its exit code.

    Skipped when this Airflow version already brought this database to the revision it still holds: an
    up-to-date migrate costs ~4 s of CPU, paid by every demo survey and `wildwatch airflow test`."""
    import contextlib
    import hashlib
    import json
    import subprocess
    from importlib.metadata import version

    url = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    stamp = Path(env["AIRFLOW_HOME"]) / "migrated.json"
    key = hashlib.sha256(url.encode()).hexdigest()[:16]  # the URL holds a password: not written down
    try:
        known = json.loads(stamp.read_text())
    except (OSError, ValueError):
        known = {}
    known = known if isinstance(known, dict) else {}
    revision = _revision(url)
    if revision is not None and known.get(key) == [version("apache-airflow"), revision]:
        return 0
    rc = subprocess.call([airflow_cli(), "db", "migrate"], env=env, stdout=out, stderr=subprocess.STDOUT)
    revision = _revision(url) if rc == 0 else None
    if revision is not None:
        known[key] = [version("apache-airflow"), revision]
        with contextlib.suppress(OSError):  # no record: the next run migrates again, nothing worse
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(json.dumps(known))
    return rc


def _revision(url: str) -> str | None:
    """The Alembic revision the metadata database is at; None where it cannot be read (no database, no tables)."""
    import psycopg2

    try:
        conn = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://", 1), connect_timeout=10)
    except psycopg2.Error:
        return None
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT version_num FROM alembic_version")
            rows = cur.fetchall()
        return rows[0][0] if len(rows) == 1 else None
    except psycopg2.Error:
        return None
    finally:
        conn.close()
