"""`make airflow`: a real Airflow (api-server, scheduler, DAG processor, LocalExecutor) on 127.0.0.1 with a
login, started once (its start-up is the slow part) for two checks. The UI: private to this machine, behind
a login, showing every DAG without import errors, with one pool per site. Then end to end on the demo
marketplace: crawl, confirm in the review app, the referral DAG waits for a supervisor's answer given through
Airflow's REST API (a rejection first, then an approval), the platform removes some listings, and the
weekly follow-up DAG records exactly those as removed with the platform's removal rate."""
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from helpers import free_port, sign_in
from wildwatch.airflow_client import Airflow
from test_crawl import crawl
from wildwatch import ports, runs, sites
from wildwatch.referrals import build, followup
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]
PASSWORD = "correct horse battery"


@pytest.fixture
def demo_sites_only(tmp_path, monkeypatch):
    """The demo marketplaces' site files alone: the one-off survey DAG holds a task group for every site file,
    and under the LocalExecutor each group's plan task is a task process of its own (14 real-site files would be
    14 processes per survey that prove nothing here)."""
    folder = tmp_path / "sites"
    folder.mkdir()
    for path in sites.site_files().values():
        if path.stem.startswith("demo_"):
            (folder / path.name).write_bytes(path.read_bytes())
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    return folder


@pytest.fixture
def airflow(demo_sites_only, crawl_env, airflow_metadata):
    # Only the runs this test triggers: no scheduled run may take the DAG's single active slot.
    # demo_tz is dead for this Airflow: a survey of it must end red (the rest of the test uses demo_cm)
    env = {**crawl_env, **airflow_metadata, "WILDWATCH_SITES_DIR": str(demo_sites_only),
           "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
           "WILDWATCH_BASE_URL__DEMO_TZ": f"http://127.0.0.1:{free_port()}",
           "WILDWATCH_OCR_BUDGET_SECONDS": "0"}  # photos are read in test_dags' survey
    port = free_port()
    started = subprocess.run([*WILDWATCH, "airflow", "start", "--port", str(port)], env=env, capture_output=True,
                             text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout
        user, password = re.search(r"login: (\S+) / (\S+)", started.stdout).groups()
        yield Airflow(f"http://127.0.0.1:{port}", user, password), port
    finally:
        stopped = subprocess.run([*WILDWATCH, "airflow", "stop"], env=env, capture_output=True, text=True,
                                 timeout=120)
    assert "stopped api-server" in stopped.stdout
    # The test deleted a site's pool through the REST API (the all-pools-present case: tests/test_cluster.py).
    status = subprocess.run([*WILDWATCH, "airflow", "status"], env=env, capture_output=True, text=True).stdout
    assert status.count("stopped") == 3
    assert "site_demo_vn is missing (fix: wildwatch pools sync)" in status, status


def _non_loopback_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def the_ui_is_private_behind_a_login_and_shows_every_dag(airflow: Airflow, port: int) -> None:
    with pytest.raises(urllib.error.HTTPError) as denied:
        Airflow(airflow.base).call("GET", "/api/v2/dags")
    assert denied.value.code == 401
    dag_ids = set()
    for _ in range(120):  # the DAG processor parses the folder shortly after it starts (slower under load)
        dag_ids = {d["dag_id"] for d in airflow.call("GET", "/api/v2/dags")["dags"]}
        if {"wildwatch_monthly_survey", "wildwatch_survey"} <= dag_ids:
            break
        time.sleep(1)
    assert {"wildwatch_monthly_survey", "wildwatch_survey"} <= dag_ids
    errors = airflow.call("GET", "/api/v2/importErrors")
    assert errors["total_entries"] == 0, errors
    pools = {p["name"]: p["slots"] for p in airflow.call("GET", "/api/v2/pools?limit=100")["pools"]}
    assert all(pools.get(f"site_{s.name}") == s.concurrency for s in sites.load_all()), pools
    ip = _non_loopback_ip()
    if ip:
        logs = ports.get("airflow_logs", Path(os.environ["WILDWATCH_VAR_DIR"]))
        for p in (port, logs, logs + 1):  # the UI, and the log servers that must stay off
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex((ip, p)) != 0, f"something listens on {ip}:{p}"


def confirm_in_review_app(database_url, n: int) -> None:
    client = TestClient(create_app(ReviewSettings(secret_key="k" * 40, database_url=database_url)))
    assert sign_in(client, "amina", PASSWORD,
                       follow_redirects=False).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    for _ in range(n):
        item = client.post("/next", data={"csrf_token": token}, follow_redirects=False).headers["location"]
        assert item.startswith("/item/")
        done = client.post(f"{item}/decide", data={"csrf_token": token, "decision": "confirmed",
                                                  "product_group": "ivory"}, follow_redirects=False)
        assert done.status_code == 303


@pytest.mark.airflow
def test_airflow_ui_then_crawl_confirm_refer_approve_remove_and_follow_up(crawl_env, conn, database_url, airflow,
                                                                          takedowns):
    airflow, port = airflow
    the_ui_is_private_behind_a_login_and_shows_every_dag(airflow, port)
    # A survey whose only site is down runs beside the rest of this test; checked at the end.
    airflow.wait_for_dag("wildwatch_survey")
    partial = airflow.trigger("wildwatch_survey", {"sites": ["demo_tz"], "product_groups": ["pangolin"]})
    with conn:
        run_id = runs.ensure_run(conn, "e2e-2026-11", "monthly", dt.date(2026, 11, 1))
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
    crawl("demo_cm", crawl_env, "-a", f"run_id={run_id}")
    confirm_in_review_app(database_url, 6)

    dag = "wildwatch_referrals"
    airflow.wait_for_dag(dag)
    rejected = airflow.trigger(dag, {"month": "2026-11"})
    airflow.answer_approval(dag, rejected, "Reject")
    assert airflow.wait_state(dag, rejected) == "success"
    [ref] = build.listing(conn)
    assert ref["status"] == "draft" and ref["n_items"] == 6 and ref["recipient"] == "demo_cm"

    approved = airflow.trigger(dag, {"month": "2026-11"})
    airflow.answer_approval(dag, approved, "Approve")
    assert airflow.wait_state(dag, approved) == "success"
    [ref] = build.listing(conn)
    assert ref["status"] == "approved" and ref["approved_by"].startswith("airflow")
    with conn.cursor() as cur:
        cur.execute("SELECT action FROM audit_log WHERE entity = 'referral' ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["referral_create", "referral_rejected", "referral_approved"]

    with conn:
        build.set_status(conn, ref["id"], "sent", "sam")
    items = build.items(conn, ref["id"])
    gone = [i for i in items][:2]
    takedowns.remove("demo_cm", [i["url"].rsplit("/", 1)[1] for i in gone])

    followup_dag = "wildwatch_takedown_followup"
    airflow.wait_for_dag(followup_dag)
    check = airflow.trigger(followup_dag)
    assert airflow.wait_state(followup_dag, check) == "success"
    with conn.cursor() as cur:
        cur.execute("SELECT listing_id FROM takedown_checks WHERE outcome = 'removed' ORDER BY 1")
        assert [r[0] for r in cur.fetchall()] == sorted(i["listing_id"] for i in gone)
        cur.execute("SELECT count(*) FROM takedown_checks WHERE outcome = 'live'")
        assert cur.fetchone()[0] == len(items) - 2
    [stats] = followup.stats_by_platform(conn)
    assert (stats["key"], stats["referred"], stats["removed"]) == ("demo_cm", 6, 2)
    assert stats["share_removed_7d"] == pytest.approx(2 / 6)

    # The survey with a dead site is not green: the run failed, its verdict task says why, and the tasks that
    # work on partial data (summary aside) still ran.
    assert airflow.wait_state("wildwatch_survey", partial) == "failed"
    states = {t["task_id"]: t["state"] for t in airflow.task_instances("wildwatch_survey", partial)}
    assert states["verdict"] == "failed" and states["link_sellers"] == "success", states
    assert states["demo_tz.crawl"] == "failed", states
    failed_runs = airflow.call("GET", "/api/v2/dags/wildwatch_survey/dagRuns?state=failed")
    assert [r["dag_run_id"] for r in failed_runs["dag_runs"]] == [partial]

    airflow.call("DELETE", "/api/v2/pools/site_demo_vn")  # someone removed a pool: `airflow status` says so

