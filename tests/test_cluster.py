"""`wildwatch cluster` (make cluster): Redis, Airflow with the CeleryExecutor and two Celery workers on
127.0.0.1; a survey of the demo marketplaces runs its site tasks on both workers and stores what a
single-process crawl stores."""
import re
import subprocess
import sys

import pytest

from helpers import free_port
from test_crawl import expected, seen_ids
from test_referral_dags import Airflow

WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]
SITES = ["demo_vn", "demo_cm", "demo_tz", "demo_cn"]


@pytest.fixture
def cluster(crawl_env, airflow_metadata):
    env = {**crawl_env, **airflow_metadata, "WILDWATCH_REDIS_PORT": str(free_port()),
           "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    port = free_port()
    started = subprocess.run([*WILDWATCH, "cluster", "start", "--port", str(port), "--workers", "2"], env=env,
                             capture_output=True, text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        user, password = re.search(r"login: (\S+) / (\S+)", started.stdout).groups()
        yield Airflow(f"http://127.0.0.1:{port}", user, password), env
    finally:
        stopped = subprocess.run([*WILDWATCH, "cluster", "stop"], env=env, capture_output=True, text=True, timeout=180)
        assert "stopped worker-w1" in stopped.stdout and "stopped redis" in stopped.stdout, stopped.stdout


@pytest.mark.airflow
@pytest.mark.browser
def test_a_survey_runs_on_both_celery_workers_and_stores_what_one_process_stores(cluster, conn):
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
