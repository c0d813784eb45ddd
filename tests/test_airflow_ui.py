"""`make airflow`: the Airflow UI, scheduler and DAG processor on 127.0.0.1, with a login."""
import json
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from helpers import free_port

WILDWATCH = [sys.executable, "-m", "wildwatch.cli"]


def _non_loopback_ip() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
        except OSError:
            return None
    return None if ip.startswith("127.") else ip


def _request(url, data=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data else None, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.airflow
def test_airflow_services_start_on_loopback_with_a_login_and_show_the_dags(crawl_env, airflow_metadata):
    env = {**crawl_env, **airflow_metadata}
    port = free_port()
    started = subprocess.run([*WILDWATCH, "airflow", "start", "--port", str(port)], env=env, capture_output=True,
                             text=True, timeout=300)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout
        login = [ln for ln in started.stdout.splitlines() if ln.startswith("login: ")]
        assert login, started.stdout
        user, password = login[0].split()[1], login[0].split()[3]

        with pytest.raises(urllib.error.HTTPError) as denied:
            _request(f"http://127.0.0.1:{port}/api/v2/dags")
        assert denied.value.code == 401
        token = _request(f"http://127.0.0.1:{port}/auth/token", {"username": user, "password": password})["access_token"]
        dag_ids = set()
        for _ in range(60):  # the DAG processor parses the folder shortly after it starts
            dag_ids = {d["dag_id"] for d in _request(f"http://127.0.0.1:{port}/api/v2/dags", token=token)["dags"]}
            if {"wildwatch_monthly_survey", "wildwatch_survey"} <= dag_ids:
                break
            time.sleep(1)
        assert {"wildwatch_monthly_survey", "wildwatch_survey"} <= dag_ids
        errors = _request(f"http://127.0.0.1:{port}/api/v2/importErrors", token=token)
        assert errors["total_entries"] == 0, errors

        ip = _non_loopback_ip()
        if ip:
            for p in (port, 8793, 8794):  # the UI, and the log servers that must stay off
                with socket.socket() as s:
                    s.settimeout(1)
                    assert s.connect_ex((ip, p)) != 0, f"something listens on {ip}:{p}"
    finally:
        stopped = subprocess.run([*WILDWATCH, "airflow", "stop"], env=env, capture_output=True, text=True,
                                 timeout=120)
    assert "stopped api-server" in stopped.stdout
    status = subprocess.run([*WILDWATCH, "airflow", "status"], env=env, capture_output=True, text=True).stdout
    assert status.count("stopped") == 3
