"""The ports this checkout's own services listen on: PostgreSQL, the demo marketplaces, the review app, Airflow.

Each comes from its environment variable when set (and is then used as given). Otherwise the conventional
port is taken when it is free, or any free one when another checkout (or anything else) holds it; the choice is
kept in var/ports.json, so every later command of this checkout, the Airflow tasks included, finds the same
service again.
"""
from __future__ import annotations

import json
import logging
import os
import socket
from pathlib import Path

log = logging.getLogger(__name__)

# name -> (environment variable, conventional port, how many consecutive ports it needs)
PORTS = {
    "pg": ("WILDWATCH_PG_PORT", 54329, 1),
    "demo": ("WILDWATCH_DEMO_PORT", 8701, 6),  # one per demo marketplace, in demo.server.SITE_ORDER
    "review": ("WILDWATCH_REVIEW_PORT", 8700, 1),
    "airflow": ("WILDWATCH_AIRFLOW_PORT", 8080, 1),
    # Airflow's log servers (scheduler's workers, triggerer): two checkouts' Airflows would collide on them too.
    "airflow_logs": ("WILDWATCH_AIRFLOW_LOG_PORT", 8793, 2),
}


def _file(var_dir: Path) -> Path:
    return Path(var_dir) / "ports.json"


class PortError(ValueError):
    """A port setting that is not a port; the message names the variable."""


def _valid(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _recorded(var_dir: Path) -> dict:
    """The choices kept in var/ports.json; a damaged file or entry counts as no choice (they are re-made)."""
    try:
        doc = json.loads(_file(var_dir).read_text())
    except (OSError, ValueError):  # none yet, or unreadable: the conventional ports
        return {}
    return {k: v for k, v in doc.items() if k in PORTS and _valid(v)} if isinstance(doc, dict) else {}


def _from_env(name: str) -> int | None:
    env = PORTS[name][0]
    raw = os.environ.get(env)
    if not raw:
        return None
    try:
        port = int(raw)
    except ValueError:
        port = None
    if port is None or not _valid(port) or port + PORTS[name][2] > 65536:
        raise PortError(f"{env} must be a port number (1-{65536 - PORTS[name][2]}), not {raw[:40]!r}")
    return port


def fixed(name: str) -> bool:
    """Whether the environment sets this port (then it is never moved)."""
    return bool(os.environ.get(PORTS[name][0]))


def get(name: str, var_dir: Path) -> int:
    """The port configured or last chosen for this service (its conventional one when never chosen)."""
    port = _from_env(name)
    return port if port is not None else _recorded(var_dir).get(name, PORTS[name][1])


def free(port: int, span: int = 1) -> bool:
    """Whether ports port .. port+span-1 can be bound on 127.0.0.1 now."""
    for p in range(port, port + span):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def _any_free(span: int) -> int:
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first + span <= 65535 and free(first, span):
            return first
    raise OSError(f"no {span} consecutive free ports found on 127.0.0.1")


def claim(name: str, var_dir: Path) -> int:
    """The port to start this service on: as configured; else the last choice or the conventional port while
    free; else a free one. Recorded for the next command."""
    fixed_port = _from_env(name)
    if fixed_port is not None:
        return fixed_port
    _, default, span = PORTS[name]
    recorded = _recorded(var_dir)
    port = next((p for p in (recorded.get(name), default) if p and free(int(p), span)), None) or _any_free(span)
    record(name, var_dir, int(port))
    return int(port)


def record(name: str, var_dir: Path, port: int) -> None:
    """Keep a port chosen for this service (a command given --port) for the commands that follow."""
    recorded = _recorded(var_dir)
    if recorded.get(name) == port:
        return
    recorded[name] = port
    path = _file(var_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        tmp.replace(path)
    except OSError as exc:  # a read-only var/ (a container): the service runs; later commands need the variable
        log.warning("cannot keep the port of %s in %s (%s): set %s=%d for the commands that follow",
                    name, path, exc.strerror or exc, PORTS[name][0], port)
