"""One DAG run here and now (`airflow dags test` with the project's Airflow settings), and what each task ended
as: how the demo runs its survey and `wildwatch airflow test DAG` runs any DAG without a scheduler."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from wildwatch import config
from wildwatch.airflow_env import airflow_cli, airflow_env, migrate


@dataclass
class DagRunResult:
    returncode: int
    run_id: str | None = None
    # task id (with [map index] for mapped ones) -> state, as the Airflow UI shows them
    states: dict[str, str] = field(default_factory=dict)

    @property
    def skipped(self) -> list[str]:
        return sorted(t for t, s in self.states.items() if s == "skipped")

    @property
    def failed(self) -> list[str]:
        return sorted(t for t, s in self.states.items() if s in ("failed", "upstream_failed"))


def _airflow(args: list[str], env: dict, log: Path) -> int:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ airflow {' '.join(args)}\n")
        fh.flush()
        return subprocess.call([airflow_cli(), *args], env=env, stdout=fh, stderr=subprocess.STDOUT)


def _states(meta_url: str, dag_id: str) -> tuple[str | None, dict[str, str]]:
    """The newest run of the DAG and its tasks' states, read from Airflow's metadata database."""
    import psycopg2

    conn = psycopg2.connect(meta_url.replace("postgresql+psycopg2://", "postgresql://", 1), connect_timeout=10)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT run_id FROM dag_run WHERE dag_id = %s ORDER BY id DESC LIMIT 1", (dag_id,))
            row = cur.fetchone()
            if row is None:
                return None, {}
            cur.execute("""SELECT task_id, map_index, state FROM task_instance WHERE dag_id = %s AND run_id = %s
                           ORDER BY task_id, map_index""", (dag_id, row[0]))
            return row[0], {(t if m < 0 else f"{t}[{m}]"): (s or "none") for t, m, s in cur.fetchall()}
    finally:
        conn.close()


def run(dag_id: str, log: Path, logical_date: dt.datetime | None = None, conf: dict | None = None,
        extra_env: dict | None = None, settings: config.Settings | None = None) -> DagRunResult:
    settings = settings or config.load()
    env = {**os.environ, **airflow_env(settings), **(extra_env or {})}
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as fh:
        fh.write("\n$ airflow db migrate (unless already done)\n")
        fh.flush()
        if migrate(env, fh) != 0:
            return DagRunResult(returncode=1)
    args = ["dags", "test", dag_id]
    if logical_date is not None:
        args.append(logical_date.isoformat())
    if conf is not None:
        args += ["-c", json.dumps(conf)]
    rc = _airflow(args, env, log)
    run_id, states = _states(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], dag_id)
    return DagRunResult(returncode=rc, run_id=run_id, states=states)
