"""A small client of Airflow's REST API (token login, DAG runs, human-in-the-loop answers), used by the tests
and benchmarks that drive a running Airflow."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


class Airflow:
    def __init__(self, base: str, user: str | None = None, password: str | None = None):
        """Logged in with user and password; anonymous without."""
        self.base = base
        self.token = None
        if user is not None:
            self.token = self.call("POST", "/auth/token", {"username": user, "password": password})["access_token"]

    def call(self, method: str, path: str, data=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                     data=json.dumps(data).encode() if data is not None else None)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"{}")

    def wait_for_dag(self, dag_id: str, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                self.call("GET", f"/api/v2/dags/{dag_id}")
                self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
                return
            except urllib.error.HTTPError:
                time.sleep(1)
        raise AssertionError(f"{dag_id} never parsed")

    def trigger(self, dag_id: str, conf: dict | None = None) -> str:
        run = self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def wait_state(self, dag_id: str, run_id: str, states=("success", "failed"), timeout_s=300) -> str:
        deadline = time.monotonic() + timeout_s
        state = None
        while time.monotonic() < deadline:
            state = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            if state in states:
                return state
            time.sleep(1)
        raise AssertionError(f"{dag_id} {run_id} still {state}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        found, offset = [], 0
        while True:
            page = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100&offset={offset}")
            found += page["task_instances"]
            offset += len(page["task_instances"])
            if not page["task_instances"] or offset >= page["total_entries"]:
                return found

    def answer_approval(self, dag_id: str, run_id: str, option: str, timeout_s=120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/hitlDetails?response_received=false")
            pending = found.get("hitl_details") or []
            if pending:
                ti = pending[0]["task_instance"]
                self._wait_parked(dag_id, run_id, ti, deadline)
                self.call("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/"
                                   f"{ti['map_index']}/hitlDetails", {"chosen_options": [option]})
                return
            state = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            assert state in ("queued", "running"), f"{dag_id} ended ({state}) before asking for approval"
            time.sleep(1)
        raise AssertionError("the approval was never requested")

    def _wait_parked(self, dag_id: str, run_id: str, ti: dict, deadline: float) -> None:
        # A HITL task writes its question, then parks (Airflow 3.3+: awaiting_input; before: deferred). Answered
        # in between, Airflow 3.3.2 fails the task: answer only once it is parked.
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}"
        if ti.get("map_index", -1) not in (-1, None):
            path += f"/{ti['map_index']}"
        while time.monotonic() < deadline:
            if self.call("GET", path).get("state") in ("awaiting_input", "deferred"):
                time.sleep(1)
                return
            time.sleep(0.5)
        raise AssertionError(f"{ti['task_id']} never parked to wait for the approval")
