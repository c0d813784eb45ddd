"""`wildwatch cluster` (make cluster): Redis, Airflow with the CeleryExecutor and two Celery workers on
127.0.0.1; a survey of the demo marketplaces runs its site tasks on both workers and stores what a
single-process crawl stores."""
import re
import subprocess
import sys

import pytest

from helpers import free_port
from test_crawl import expected, seen_ids
from wildwatch.airflow_client import Airflow

WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]
SITES = ["demo_vn", "demo_cm", "demo_tz", "demo_cn"]


@pytest.fixture
def cluster(crawl_env, airflow_metadata):
    # A dead worker's task is noticed after 20 s here (60 s in `make cluster`).
    env = {**crawl_env, **airflow_metadata, "WILDWATCH_REDIS_PORT": str(free_port()),
           "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "WILDWATCH_HEARTBEAT_TIMEOUT": "20"}
    port = free_port()
    started = subprocess.run([*WILDWATCH, "cluster", "start", "--port", str(port), "--workers", "2"], env=env,
                             capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        user, password = re.search(r"login: (\S+) / (\S+)", started.stdout).groups()
        yield Airflow(f"http://127.0.0.1:{port}", user, password), env
    finally:
        stopped = subprocess.run([*WILDWATCH, "cluster", "stop"], env=env, capture_output=True, text=True, timeout=180)
        assert "stopped worker-w2" in stopped.stdout and "stopped redis" in stopped.stdout, stopped.stdout


@pytest.mark.airflow
@pytest.mark.browser
def test_surveys_run_on_both_workers_and_survive_a_killed_worker(cluster, conn):
    """One cluster (its start-up is the slow part) for both: a survey over two workers stores what one process
    stores; a second survey, during which worker w1 is killed, still does."""
    airflow, env = cluster
    status = subprocess.run([*WILDWATCH, "cluster", "status"], env=env, capture_output=True, text=True).stdout
    assert status.count("running") == 6, status  # api-server, scheduler, dag-processor, redis, 2 workers
    dag = "wildwatch_survey"
    airflow.wait_for_dag(dag)
    run = airflow.trigger(dag, {"sites": SITES})
    assert airflow.wait_state(dag, run, timeout_s=900) == "success"
    with conn.cursor() as cur:
        cur.execute("""SELECT s.name, sc.status, sc.stats->>'worker' FROM site_crawls sc
                       JOIN sites s ON s.id = sc.site_id ORDER BY s.name""")
        rows = cur.fetchall()
        cur.execute("SELECT id FROM crawl_runs WHERE run_key = %s", (run,))
        run_id = cur.fetchone()[0]
    assert sorted(r[0] for r in rows) == sorted(SITES) and all(r[1] == "succeeded" for r in rows), rows
    assert {r[2] for r in rows} == {"w1", "w2"}, rows
    for site in SITES:
        want = expected(site)
        assert {i for i in seen_ids(conn, run_id) if i.startswith(site[-2:])} == set(want["listing_ids"])
        assert set(want["should_queue"]) <= seen_ids(conn, run_id, queued_only=True)
    killing_a_worker_mid_survey_loses_and_duplicates_nothing(airflow, env, conn)


def killing_a_worker_mid_survey_loses_and_duplicates_nothing(airflow, env, conn):
    import os
    import signal
    import time
    from pathlib import Path

    dag = "wildwatch_survey"
    run = airflow.trigger(dag, {"sites": SITES})
    tis = f"/api/v2/dags/{dag}/dagRuns/{run}/taskInstances"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        running = [t for t in airflow.call("GET", tis)["task_instances"]
                   if t["task_id"] == "crawl_site" and t["state"] == "running"]
        if len(running) >= 3:  # both workers busy
            break
        time.sleep(0.5)
    assert len(running) >= 3, running
    pid = int((Path(env["WILDWATCH_VAR_DIR"]) / "airflow" / "pids" / "worker-w1.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    assert airflow.wait_state(dag, run, timeout_s=900) == "success"
    crawls = [t for t in airflow.call("GET", tis)["task_instances"] if t["task_id"] == "crawl_site"]
    assert any(t["try_number"] > 1 for t in crawls), crawls  # w1's tasks ran again ...
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM crawl_runs WHERE run_key = %s", (run,))
        run_id = cur.fetchone()[0]
        cur.execute("""SELECT s.name, sc.status, sc.stats->>'worker' FROM site_crawls sc
                       JOIN sites s ON s.id = sc.site_id WHERE sc.run_id = %s ORDER BY s.name""", (run_id,))
        rows = cur.fetchall()
        cur.execute("SELECT count(*), count(DISTINCT url) FROM listings")
        total, distinct = cur.fetchone()
    assert all(r[1] == "succeeded" for r in rows), rows
    retried = {t["rendered_map_index"].split()[0] for t in crawls if t["try_number"] > 1}
    assert retried and all(worker == "w2" for name, _, worker in rows if name in retried), (retried, rows)  # ... on w2
    assert total == distinct
    for site in SITES:
        want = expected(site)
        assert {i for i in seen_ids(conn, run_id) if i.startswith(site[-2:])} == set(want["listing_ids"])
        assert set(want["should_queue"]) <= seen_ids(conn, run_id, queued_only=True)
