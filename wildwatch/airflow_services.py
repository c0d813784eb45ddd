"""`wildwatch airflow start|stop|status`: the Airflow UI, scheduler and DAG processor on 127.0.0.1.

Log servers stay off (--skip-serve-logs): they would listen on every interface.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from wildwatch import config, db, ports
from wildwatch.airflow_env import airflow_cli, airflow_env, migrate

SERVICES = {
    "api-server": ["api-server"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
    "dag-processor": ["dag-processor"],
}


def _pid_file(settings, name: str) -> Path:
    return settings.var_dir / "airflow" / "pids" / f"{name}.pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _pid(settings, name: str) -> int | None:
    path = _pid_file(settings, name)
    if path.exists():
        pid = int(path.read_text().strip() or 0)
        if pid and _alive(pid):
            return pid
    return None


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def running(settings) -> bool:
    return any(_pid(settings, name) for name in SERVICES)


def start(port: int = 0, executor_env=None, extra_services: dict | None = None) -> int:
    """The services, each once (a running one is left alone). executor_env(settings, metadata_url) -> the
    settings of another executor (wildwatch/cluster.py: Celery), with extra_services (name -> (airflow
    arguments, extra environment)) such as the workers. Passed in, so this module imports no caller."""
    settings = config.load()
    db.ready(settings)
    if running(settings):  # keeps the ports it runs on
        port = port or ports.get("airflow", settings.var_dir)
    else:  # 8080 (and the log servers' 8793-8794) unless another checkout's Airflow holds them
        port = port or ports.claim("airflow", settings.var_dir)
        ports.claim("airflow_logs", settings.var_dir)
    env = {**os.environ, **airflow_env(settings, api_port=port)}
    celery = executor_env is not None
    if celery:
        env.update(executor_env(settings, env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
    airflow = airflow_cli()
    logs = settings.var_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)
    if migrate(env, subprocess.DEVNULL) != 0:
        raise subprocess.CalledProcessError(1, [airflow, "db", "migrate"])
    # Before the scheduler: a crawl task whose site pool is missing would wait forever.
    from wildwatch import pools

    pools.sync(env)
    services = {name: (args, {}) for name, args in SERVICES.items()}
    services.update(extra_services or {})
    for name, (args, own_env) in services.items():
        if _pid(settings, name):
            continue
        with (logs / f"airflow-{name}.log").open("a") as log:
            proc = subprocess.Popen([airflow, *args], env={**env, **own_env}, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        _pid_file(settings, name).parent.mkdir(parents=True, exist_ok=True)
        _pid_file(settings, name).write_text(str(proc.pid))
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        print(f"wildwatch: the Airflow API server did not answer on {url}; see {logs}/airflow-api-server.log",
              file=sys.stderr)
        return 1
    passwords = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
    login = json.loads(passwords.read_text()) if passwords.exists() else {}
    print(f"Airflow UI: {url}  (DAG page: {url}/dags/wildwatch_monthly_survey)")
    for user, password in login.items():
        print(f"login: {user} / {password}   (from {passwords})")
    print("stop with: " + ("make cluster-stop" if celery else "make airflow-stop"))
    return 0


def stop_many(settings, names: list[str], grace_s: float = 15.0) -> None:
    """SIGTERM to all of them at once, then up to grace_s for all of them together (one after the other, each
    waiting its own grace, a cluster took half a minute to stop); SIGKILL what is still there."""
    pids = {name: _pid(settings, name) for name in names}
    for pid in filter(None, pids.values()):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while any(pid and _alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.2)
    for name, pid in pids.items():
        if pid:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)
            print(f"stopped {name}")
        _pid_file(settings, name).unlink(missing_ok=True)


def stop_one(settings, name: str) -> None:
    stop_many(settings, [name])


def stop() -> int:
    stop_many(config.load(), list(SERVICES))
    return 0


def status() -> int:
    from wildwatch import pools

    settings = config.load()
    for name in SERVICES:
        pid = _pid(settings, name)
        print(f"{name:14s} {'running (pid %d)' % pid if pid else 'stopped'}")
    problems = pools.check()
    print(f"{'site pools':14s} " + ("; ".join(problems) + " (fix: wildwatch pools sync)" if problems
                                    else f"ok ({len(pools.spec())}, slots as in the site files)"))
    return 0
