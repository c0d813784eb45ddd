"""A PostgreSQL cluster owned by the project, for development, demos and tests.

initdb and pg_ctl refuse to run as root, so as root every server command runs as the `postgres` system
user, and the data folder must sit where that user can reach it. The server listens on 127.0.0.1 only,
with no Unix socket, and every connection needs the generated password.
"""
from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import quote

SUPERUSER = "wildwatch"
DEFAULT_DATABASES = ("wildwatch", "wildwatch_airflow")


class LocalPgError(RuntimeError):
    pass


def pg_bindir() -> Path:
    configured = os.environ.get("WILDWATCH_PG_BIN")
    if configured:
        return Path(configured)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if candidates:
        return Path(candidates[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise LocalPgError(
        "PostgreSQL server binaries not found: install the Debian package postgresql-15 "
        "(or set WILDWATCH_PG_BIN to the folder holding initdb and pg_ctl)"
    )


def _is_root() -> bool:
    return os.geteuid() == 0


def _postgres_can_enter(path: Path) -> bool:
    result = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)], capture_output=True)
    return result.returncode == 0


def port_in_use(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port."""
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class LocalCluster:
    """`home` holds the password and, when it can, the data folder itself."""

    home: Path
    port: int
    fsync: bool = True
    # Called for another port when this one is taken by someone else's server; None: refuse to start.
    repick: Callable[[], int] | None = None

    def __post_init__(self) -> None:
        self.home = Path(self.home)
        self.password_file = self.home.with_name(self.home.name + ".password")

    # -- where things live -------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        if not _is_root():
            return self.home
        self.home.parent.mkdir(parents=True, exist_ok=True)
        if _postgres_can_enter(self.home.parent):
            return self.home
        # A clone under root's home (mode 700) is out of reach of `postgres`: keep the data in a
        # folder named after the configured path so every command finds the same cluster.
        digest = hashlib.sha256(str(self.home).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"wildwatch-pg-{digest}" / "data"

    @property
    def password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            raise LocalPgError(f"no local cluster initialised yet ({self.password_file} missing): run "
                               "`wildwatch db start`") from None

    def url(self, dbname: str = "wildwatch") -> str:
        return f"postgresql://{SUPERUSER}:{quote(self.password, safe='')}@127.0.0.1:{self.port}/{dbname}"

    # -- commands ----------------------------------------------------------------------------------
    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        if _is_root():
            args = ["runuser", "-u", "postgres", "--", *args]
        result = subprocess.run(args, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise LocalPgError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists() and self.password_file.exists()

    def init(self) -> None:
        data = self.data_dir
        if (data / "PG_VERSION").exists() and not self.password_file.exists():
            raise LocalPgError(f"{data} holds a cluster but its password file {self.password_file} is gone; "
                               f"remove {data} to start afresh")
        self.password_file.parent.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24))
        data.mkdir(parents=True, exist_ok=True)
        os.chmod(data, 0o700)
        # initdb reads the password file as the server user: hand it a private copy.
        with tempfile.TemporaryDirectory() as tmp:
            pwfile = Path(tmp) / "pw"
            pwfile.write_text(self.password)
            if _is_root():
                os.chmod(tmp, 0o755)
                shutil.chown(data, "postgres", "postgres")
                shutil.chown(pwfile, "postgres", "postgres")
            os.chmod(pwfile, 0o600)
            self._run([str(pg_bindir() / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}",
                       "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"])
        conf = data / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n# wildwatch: loopback TCP only, no Unix socket\n"
                     "listen_addresses = '127.0.0.1'\n"
                     "unix_socket_directories = ''\n"
                     "max_connections = 200\n")

    def running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._run([str(pg_bindir() / "pg_ctl"), "-D", str(self.data_dir), "status"],
                         check=False).returncode == 0

    def start(self) -> None:
        if not self.initialised():
            self.init()
        if self.running():
            return
        if port_in_use(self.port) and self.repick:
            self.port = self.repick()
        if port_in_use(self.port):
            raise LocalPgError(f"127.0.0.1:{self.port} is already in use (another wildwatch checkout's database?): "
                               "stop that server or choose another port with WILDWATCH_PG_PORT")
        opts = f"-c port={self.port}" + ("" if self.fsync else " -c fsync=off -c synchronous_commit=off "
                                          "-c full_page_writes=off")
        result = self._run([str(pg_bindir() / "pg_ctl"), "-D", str(self.data_dir), "-l",
                            str(self.data_dir / "server.log"), "-o", opts, "-w", "-t", "60", "start"],
                           check=False)
        if result.returncode != 0:
            log = self._run(["tail", "-n", "8", str(self.data_dir / "server.log")], check=False).stdout
            raise LocalPgError(f"PostgreSQL did not start on 127.0.0.1:{self.port}:\n{log}")
        self.create_databases()

    def create_databases(self, names=DEFAULT_DATABASES) -> None:
        import psycopg2

        conn = psycopg2.connect(self.url("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                for name in names:
                    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cur.fetchone() is None:
                        cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()

    def stop(self) -> None:
        if self.running():
            self._run([str(pg_bindir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def status(self) -> str:
        if not self.initialised():
            return f"not initialised (would live in {self.data_dir})"
        state = "running" if self.running() else "stopped"
        return f"{state}: data {self.data_dir}, 127.0.0.1:{self.port}"
