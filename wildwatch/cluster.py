"""`wildwatch cluster start|stop|status` (`make cluster`): the production shape on one machine, all on
127.0.0.1: Redis (the Celery broker), the project's PostgreSQL (survey data and Airflow metadata in separate
databases), the Airflow api-server, scheduler and dag-processor, and N Celery workers. Log servers stay off
(--skip-serve-logs); each worker knows its name from WILDWATCH_WORKER, which crawls record."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from wildwatch import airflow_services, config

DEFAULT_REDIS_PORT = 56379


def redis_port() -> int:
    return config.number("WILDWATCH_REDIS_PORT", DEFAULT_REDIS_PORT)


def celery_env(settings: config.Settings, meta_url: str) -> dict[str, str]:
    """The settings docker-compose.yml gives the same services (see x-airflow-common there)."""
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{redis_port()}/0",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta_url.replace("postgresql+psycopg2://", "postgresql://", 1),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": os.environ.get("WILDWATCH_WORKER_CONCURRENCY", "2"),
        # free a worker's slot soon after its task ends
        "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
        # a task whose worker died is noticed within a minute and retried on another worker
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": os.environ.get("WILDWATCH_HEARTBEAT_TIMEOUT", "60"),
        "WILDWATCH_TASK_RETRIES": os.environ.get("WILDWATCH_TASK_RETRIES", "2"),
        "WILDWATCH_RETRY_DELAY_S": os.environ.get("WILDWATCH_RETRY_DELAY_S", "5"),
    }


def start_redis(settings: config.Settings) -> int:
    binary = shutil.which("redis-server")
    if not binary:
        print("wildwatch: redis-server is not installed (apt-get install redis-server)", file=sys.stderr)
        return 1
    pid = airflow_services._pid(settings, "redis")
    if pid:
        return 0
    logs = settings.var_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "redis.log").open("a") as log:
        proc = subprocess.Popen([binary, "--bind", "127.0.0.1", "--port", str(redis_port()), "--save", "",
                                 "--appendonly", "no", "--protected-mode", "yes"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    path = airflow_services._pid_file(settings, "redis")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(str(proc.pid))
    for _ in range(50):
        if airflow_services.port_open(redis_port()):
            return 0
        time.sleep(0.1)
    print(f"wildwatch: redis did not start; see {logs / 'redis.log'}", file=sys.stderr)
    return 1


def start(port: int = 0, workers: int = 2) -> int:
    settings = config.load()
    rc = start_redis(settings)
    if rc:
        return rc
    extra_services = {f"worker-w{i}": (["celery", "worker", "--celery-hostname", f"w{i}@%h", "--skip-serve-logs"],
                                       {"WILDWATCH_WORKER": f"w{i}"})
                      for i in range(1, workers + 1)}
    return airflow_services.start(port, executor_env=celery_env, extra_services=extra_services)


def stop() -> int:
    settings = config.load()
    workers = [path.stem for path in sorted((settings.var_dir / "airflow" / "pids").glob("worker-*.pid"))]
    airflow_services.stop_many(settings, [*airflow_services.SERVICES, *workers])
    airflow_services.stop_one(settings, "redis")  # last: the workers and the scheduler talk to it as they stop
    return 0


def status() -> int:
    settings = config.load()
    airflow_services.status()
    names = ["redis"] + sorted(p.stem for p in Path(settings.var_dir / "airflow" / "pids").glob("worker-*.pid"))
    for name in names:
        pid = airflow_services._pid(settings, name)
        print(f"{name:14s} {'running (pid %d)' % pid if pid else 'stopped'}")
    return 0
