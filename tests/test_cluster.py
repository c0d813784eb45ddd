"""`wildwatch cluster` (make cluster): Redis, Airflow with the CeleryExecutor and two Celery workers on
127.0.0.1. The monthly survey, its sites split into keyword shards, runs on both workers, never has more of
a site's shards running than the site's pool allows, survives a killed worker, and stores exactly what a
single-process crawl of the same sites stores."""
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest
import yaml

from helpers import free_port
from wildwatch import config, keywords, runs, shards, sites
from wildwatch.airflow_client import Airflow

WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]
# What this test's monthly survey crawls: three HTML demo sites, two of them capped below the workers' slots.
# The browser-rendered, JSON and forum demo sites go through the same DAG in tests/test_walkthrough.py; in
# shards on two workers they would only double the time of the slowest test (the browser site's shards each
# start a Chromium), not add to what it proves: pools, shards, a killed worker, one object store.
SITES = ["demo_cm", "demo_tz", "demo_vn"]
LEFT_OUT = ["demo_cn", "demo_forum", "demo_rao"]
# 8 shard tasks (demo_tz 4, demo_cm 2, demo_vn 2): each capped site still has more shards than pool slots, and
# the survey takes half the Celery tasks that size 10 gave (16): the same proof, 15-20 s and much CPU less.
SHARD_SIZE = 25
# Lower than the demo files' 4, so that the pool, not the two workers' four slots, is what limits it.
CAPPED = {"demo_tz": 2, "demo_cm": 1}
DAG = "wildwatch_monthly_survey"


def max_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """The most intervals open at one instant (an end and a start at the same instant do not overlap)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals],
                    key=lambda e: (e[0], e[1]))
    open_now = most = 0
    for _, step in events:
        open_now += step
        most = max(most, open_now)
    return most


def test_max_overlap_counts_what_runs_at_once():
    t = [dt.datetime(2026, 1, 1, 0, 0, s) for s in range(10)]
    assert max_overlap([(t[0], t[2]), (t[2], t[4])]) == 1
    assert max_overlap([(t[0], t[5]), (t[1], t[2]), (t[3], t[6]), (t[4], t[9])]) == 3


def snapshot(url: str, run_id: int) -> dict:
    """What a survey run stored: the listings it saw, their fields, whether queued, the review queue."""
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT l.url, l.title, l.price, l.seller, l.description, l.status, s.queued
                       FROM sightings s JOIN listings l ON l.id = s.listing_id WHERE s.run_id = %s""", (run_id,))
        seen = sorted(cur.fetchall())
        # the blind audit sample is drawn after the survey by its own task, which the reference does not run
        cur.execute("""SELECT l.url, q.priority, q.status FROM review_queue q JOIN listings l ON l.id = q.listing_id
                       WHERE q.reason <> 'audit'""")
        queue = sorted(cur.fetchall())
        cur.execute("SELECT count(*), count(DISTINCT url) FROM listings")
        listings, distinct = cur.fetchone()
        cur.execute("""SELECT count(*), count(DISTINCT (listing_id, keyword_id, field, span_start))
                       FROM keyword_matches""")
        matches, distinct_matches = cur.fetchone()
    assert (listings, matches) == (distinct, distinct_matches), "nothing stored twice"
    return {"seen": seen, "queue": queue, "listings": listings}


def run_id_of(url: str, run_key: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM crawl_runs WHERE run_key = %s", (run_key,))
        return cur.fetchone()[0]


@pytest.fixture
def sites_dir(tmp_path):
    """The project's site files, some with a lower concurrency (see CAPPED), LEFT_OUT disabled."""
    folder = tmp_path / "sites"
    shutil.copytree(config.PROJECT_ROOT / "sites", folder)
    for name in LEFT_OUT:
        path = folder / f"{name}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["enabled"] = False
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    for name, slots in CAPPED.items():
        path = folder / f"{name}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        doc["politeness"]["concurrency"] = slots
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def reference(pg_cluster, crawl_env, sites_dir):
    """The same sites crawled one after another by single, unsharded crawls, into a database of its own;
    runs in the background while the cluster starts."""
    url = pg_cluster.url(f"reference_{os.getpid()}")
    admin = psycopg2.connect(pg_cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "reference_{os.getpid()}" TEMPLATE wildwatch_template')
    env = {**crawl_env, "WILDWATCH_DATABASE_URL": url, "WILDWATCH_SITES_DIR": str(sites_dir)}
    with psycopg2.connect(url) as conn:
        run_id = runs.ensure_run(conn, "reference", "monthly", dt.date.today())
    failures = []

    def crawl_all():
        for site in SITES:
            done = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={site}",
                                   "-a", f"run_id={run_id}"], cwd=config.PROJECT_ROOT, env=env,
                                  capture_output=True, text=True, timeout=600)
            if done.returncode:
                failures.append(done.stderr[-2000:])

    worker = threading.Thread(target=crawl_all)
    worker.start()

    def result() -> dict:
        worker.join()
        assert not failures, failures
        return snapshot(url, run_id)

    yield result
    worker.join()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "reference_{os.getpid()}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def cluster(crawl_env, airflow_metadata, sites_dir, reference, s3_store_env):
    # A dead worker's task is noticed after 20 s here (60 s in `make cluster`). The workers keep evidence in
    # one bucket on a real S3 server, as workers on two machines would.
    shared_store = {k: v for k, v in os.environ.items() if k.startswith(("WILDWATCH_S3", "WILDWATCH_EVIDENCE_STORE"))}
    env = {**crawl_env, **shared_store, **airflow_metadata, "WILDWATCH_REDIS_PORT": str(free_port()),
           "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False", "WILDWATCH_HEARTBEAT_TIMEOUT": "20",
           "WILDWATCH_SHARD_SIZE": str(SHARD_SIZE), "WILDWATCH_SITES_DIR": str(sites_dir),
           # photos are read by test_dags' survey; here they would only slow the workers down
           "WILDWATCH_OCR_BUDGET_SECONDS": "0"}
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


def expected_shards(sites_dir: Path) -> dict[str, int]:
    kb = keywords.load(config.load().keywords_dir)
    return {name: shards.count(len(kb.search_queries(sites.load(name, sites_dir).languages)), SHARD_SIZE)
            for name in SITES}


def crawl_tis(airflow: Airflow, run: str) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for ti in airflow.task_instances(DAG, run):
        if ti["task_id"].endswith(".crawl") and ti["state"] != "skipped":
            found.setdefault(ti["task_id"].split(".")[0], []).append(ti)
    return found


def shard_workers(url: str, run_id: int) -> dict[tuple[str, int], str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("""SELECT s.name, c.shard, c.worker, c.status FROM shard_crawls c JOIN sites s ON s.id = c.site_id
                       WHERE c.run_id = %s""", (run_id,))
        rows = cur.fetchall()
    assert all(r[3] == "succeeded" for r in rows), rows
    return {(name, shard): worker for name, shard, worker, _ in rows}


@pytest.mark.longest
@pytest.mark.airflow
def test_the_monthly_survey_in_shards_on_two_workers_stays_polite_and_survives_a_killed_worker(
        cluster, reference, database_url, sites_dir):
    """One cluster (its start-up is the slow part) for both surveys."""
    airflow, env = cluster
    status = subprocess.run([*WILDWATCH, "cluster", "status"], env=env, capture_output=True, text=True).stdout
    assert status.count("running") == 6, status  # api-server, scheduler, dag-processor, redis, 2 workers
    assert f"site pools     ok ({len(sites.site_files(sites_dir))}, slots as in the site files)" in status, status
    slots = {p["name"]: p["slots"] for p in airflow.call("GET", "/api/v2/pools?limit=100")["pools"]}
    assert all(slots[f"site_{s.name}"] == s.concurrency for s in sites.load_all(sites_dir)), slots
    want_shards = expected_shards(sites_dir)
    assert want_shards["demo_tz"] > CAPPED["demo_tz"] and want_shards["demo_cm"] > CAPPED["demo_cm"]

    airflow.wait_for_dag(DAG)
    run = airflow.trigger(DAG)
    assert airflow.wait_state(DAG, run, timeout_s=900) == "success", why_not(airflow, run, database_url)
    tis = crawl_tis(airflow, run)
    assert {name: len(t) for name, t in tis.items()} == want_shards
    n = want_shards["demo_tz"]
    assert sorted(t["rendered_map_index"] for t in tis["demo_tz"]) == [f"demo_tz {k}/{n} (TZ)" for k in range(1, n + 1)]
    overlaps = {}
    for name, instances in tis.items():
        overlaps[name] = max_overlap([(dt.datetime.fromisoformat(t["start_date"]),
                                       dt.datetime.fromisoformat(t["end_date"])) for t in instances])
        assert overlaps[name] <= slots[f"site_{name}"], (name, overlaps[name], instances)
    assert max(overlaps.values()) > 1, f"no site ever crawled two shards at once: {overlaps}"
    run_id = run_id_of(database_url, run)
    assert set(shard_workers(database_url, run_id).values()) == {"w1", "w2"}
    want = reference()
    assert snapshot(database_url, run_id) == want
    evidence_is_whole_and_served_from_the_shared_store(env, database_url)

    killing_a_worker_mid_survey_loses_and_duplicates_nothing(airflow, env, database_url, want)
    evidence_is_whole_and_served_from_the_shared_store(env, database_url)


def evidence_is_whole_and_served_from_the_shared_store(env, database_url) -> None:
    """Every WARC, screenshot and photo both workers kept is in the bucket, intact, and the review app
    (on no worker's disk) serves each one."""
    from fastapi.testclient import TestClient

    from helpers import sign_in
    from wildwatch.review import accounts
    from wildwatch.review.app import create_app
    from wildwatch.review.settings import ReviewSettings

    checked = subprocess.run([*WILDWATCH, "evidence", "verify"], env=env, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0 and "evidence store OK" in checked.stdout, checked.stdout[-3000:]
    assert env["WILDWATCH_EVIDENCE_STORE"].startswith("s3://")
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, kind FROM evidence WHERE sha256 IS NOT NULL")
        evidence = cur.fetchall()
        cur.execute("SELECT id FROM listing_photos WHERE sha256 IS NOT NULL")
        photos = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM users WHERE name = 'ops'")
        if not cur.fetchone()[0]:
            accounts.add_user(conn, "ops", "supervisor", "correct horse battery")
    assert {kind for _, kind in evidence} >= {"warc"} and photos
    app = create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url,
                                    evidence_dir=env["WILDWATCH_EVIDENCE_STORE"]))
    with TestClient(app) as client:
        assert sign_in(client, "ops", "correct horse battery", follow_redirects=False).status_code == 303
        for evidence_id, _ in evidence:
            assert client.get(f"/evidence/{evidence_id}").status_code == 200, evidence_id
        for photo_id in photos:
            assert client.get(f"/photo/{photo_id}").status_code == 200, photo_id


def why_not(airflow: Airflow, run: str, database_url: str) -> str:
    """What went wrong in a run: its tasks that did not succeed, and the survey's own summary."""
    tis = [(t["task_id"], t["map_index"], t["state"], t["try_number"]) for t in airflow.task_instances(DAG, run)
           if t["state"] != "success"]
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status, summary FROM crawl_runs WHERE run_key = %s", (run,))
        summary = cur.fetchone()
    return f"tasks not successful: {tis}; survey record: {summary}"


def killing_a_worker_mid_survey_loses_and_duplicates_nothing(airflow, env, database_url, want):
    run = airflow.trigger(DAG)
    deadline = time.monotonic() + 300
    running = []
    while time.monotonic() < deadline:
        running = [t for ts in crawl_tis(airflow, run).values() for t in ts if t["state"] == "running"]
        if len(running) >= 3:  # both workers busy crawling
            break
        time.sleep(0.5)
    assert len(running) >= 3, running
    pid = int((Path(env["WILDWATCH_VAR_DIR"]) / "airflow" / "pids" / "worker-w1.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    assert airflow.wait_state(DAG, run, timeout_s=900) == "success", why_not(airflow, run, database_url)
    retried = [t for ts in crawl_tis(airflow, run).values() for t in ts if t["try_number"] > 1]
    assert retried, "w1's shards ran again ..."
    run_id = run_id_of(database_url, run)
    workers = shard_workers(database_url, run_id)
    assert all(workers[(t["task_id"].split(".")[0], t["map_index"])] == "w2" for t in retried), (retried, workers)
    assert snapshot(database_url, run_id) == want
