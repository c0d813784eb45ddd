"""Folders (and the PostgreSQL clusters inside them) that tests create under /var/tmp.

Each folder is named wildwatch-test-<kind>-*, carries a marker naming the pytest process that owns it (pid and
the process's start time, so a reused pid is not mistaken for the owner), and is removed, its servers stopped,
when its test or the session ends. A session also reaps folders whose owner is gone (a run that was killed),
recognised by their marker only, never by name alone, and never touching a live run's folder.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path("/var/tmp")  # not the clone: the postgres user must reach the data folder when we are root
PREFIX = "wildwatch-test-"
MARKER = "wildwatch-test-owner"
_owned: list[Path] = []


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, starttime, counted after the command name


def _me() -> str:
    return f"{os.getpid()} {_start_time(os.getpid())}"


def make(kind: str) -> Path:
    home = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-", dir=ROOT))
    os.chmod(home, 0o755)
    (home / MARKER).write_text(_me())
    _owned.append(home)
    return home


def remove(home: Path) -> None:
    """Stop every PostgreSQL cluster under home, then delete it."""
    from wildwatch.localpg import LocalCluster

    for version_file in home.glob("**/PG_VERSION"):
        data = version_file.parent
        if (data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                LocalCluster(data, 0).stop()
    for proc in Path("/proc").glob("[0-9]*"):  # a SeaweedFS server whose test was killed: it ignores SIGTERM
        with contextlib.suppress(OSError, ValueError):
            if f"-dir={home}/".encode() in (proc / "cmdline").read_bytes() and b"weed" in (proc / "cmdline").read_bytes():
                os.kill(int(proc.name), 9)
    shutil.rmtree(home, ignore_errors=True)
    if home in _owned:
        _owned.remove(home)


@contextlib.contextmanager
def scratch(kind: str):
    home = make(kind)
    try:
        yield home
    finally:
        remove(home)


def remove_owned() -> None:
    for home in list(_owned):
        remove(home)


def _owner_alive(marker: Path) -> bool:
    try:
        pid, started = marker.read_text().split()
    except (OSError, ValueError):
        return True  # unreadable: not provably ours to delete
    return _start_time(int(pid)) == started


def reap() -> list[Path]:
    """Folders left by test runs whose pytest is gone: their servers stopped, the folders removed."""
    reaped = []
    for home in sorted(ROOT.glob(f"{PREFIX}*")):
        marker = home / MARKER
        if marker.exists() and not _owner_alive(marker):
            remove(home)
            reaped.append(home)
    return reaped


def present() -> set[Path]:
    return set(ROOT.glob(f"{PREFIX}*"))


def owned_by(pid: int) -> set[Path]:
    """Folders whose marker names the process `pid` (other runs may be making their own meanwhile)."""
    out = set()
    for home in present():
        try:
            if int((home / MARKER).read_text().split()[0]) == pid:
                out.add(home)
        except (OSError, ValueError, IndexError):
            continue
    return out


def servers_under(homes: set[Path]) -> list[str]:
    """Command lines of running postgres (or SeaweedFS) servers whose data folder lies in one of `homes`."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = " ".join(c.decode(errors="replace") for c in cmd if c)
        if ("postgres" in text and any(f"-D {h}" in text for h in homes)) or \
                ("weed" in text and any(f"-dir={h}/" in text for h in homes)):
            found.append(text)
    return found
