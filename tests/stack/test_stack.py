"""The production stack, run for real: images built here from Debian's packages, docker-compose.yml started
with podman, the monthly survey DAG run by its scheduler and Celery worker against the demo marketplaces
(a service of the stack), an item and its evidence opened in the review app through the TLS proxy, every
container recreated, and everything still there.

Slow (image builds, Airflow start-up): not part of `make test`; `make stack-test` runs it, and CI does.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK = [str(ROOT / "deploy" / "stack.sh")]
PROJECT = "wildwatch-stacktest"
DAG = "wildwatch_monthly_survey"
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(shutil.which("podman") is None,
                                reason="podman is not installed (apt-get install podman runc debootstrap)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, env_file: Path, https_port: int):
        self.env = {**os.environ, "WILDWATCH_STACK_ENV": str(env_file), "WILDWATCH_STACK_PROJECT": PROJECT,
                    "WILDWATCH_HTTPS_PORT": str(https_port), "WILDWATCH_AIRFLOW_PORT": str(free_port())}
        self.base = f"https://localhost:{https_port}"

    def run(self, *args, timeout=1800, check=True, input=None) -> subprocess.CompletedProcess:
        done = subprocess.run([*STACK, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout, input=input)
        if check and done.returncode:
            raise AssertionError(f"stack.sh {' '.join(args)} failed ({done.returncode}):\n"
                                 f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def container(self, service: str) -> str:
        return f"{PROJECT}_{service}_1"

    def exec(self, service: str, *cmd, input=None, check=True, timeout=600) -> subprocess.CompletedProcess:
        done = subprocess.run(["podman", "exec", "-i", self.container(service), *cmd], env=self.env,
                              capture_output=True, text=True, timeout=timeout, input=input)
        if check and done.returncode:
            raise AssertionError(f"{service}: {' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def sql(self, query: str) -> list[list[str]]:
        out = self.exec("postgres", "psql", "-U", "postgres", "-d", "wildwatch", "-At", "-F", "\t", "-c", query)
        return [line.split("\t") for line in out.stdout.splitlines() if line]

    def logs(self, service: str) -> str:
        done = subprocess.run(["podman", "logs", "--tail", "60", self.container(service)], capture_output=True,
                              text=True, env=self.env)
        return done.stdout + done.stderr

    def wait_healthy(self, services: list[str], timeout_s: float = 600) -> None:
        """Run each service's own health check (podman without systemd does not schedule them) until all pass."""
        deadline = time.monotonic() + timeout_s
        pending = list(services)
        while pending and time.monotonic() < deadline:
            for service in list(pending):
                done = subprocess.run(["podman", "healthcheck", "run", self.container(service)], env=self.env,
                                      capture_output=True, text=True)
                if done.returncode == 0:
                    pending.remove(service)
            if pending:
                time.sleep(5)
        assert not pending, "not healthy: " + ", ".join(f"{s}\n{self.logs(s)}" for s in pending)

    def ca(self, folder: Path) -> ssl.SSLContext:
        """Trust the proxy's own CA (WILDWATCH_TLS=internal), taken from its data volume."""
        path = folder / "caddy-root.crt"
        subprocess.run(["podman", "cp", f"{self.container('proxy')}:/data/caddy/pki/authorities/local/root.crt",
                        str(path)], check=True, env=self.env)
        return ssl.create_default_context(cafile=str(path))


SERVICES = ["postgres", "redis", "objectstore", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "airflow-worker", "review", "proxy", "demo"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stack")
    stack = Stack(folder / "stack.env", free_port())
    stack.folder = folder
    built = stack.run("build", timeout=3600)
    print(built.stdout)
    stack.run("destroy", check=False)  # a stack a killed run left behind
    try:
        stack.run("up", "--demo", timeout=1200)
        yield stack
    finally:
        stack.run("destroy", check=False, timeout=600)
        subprocess.run(["podman", "network", "rm", "-f", f"{PROJECT}_default"], capture_output=True, env=stack.env)


def login(client: httpx.Client, name: str) -> None:
    page = client.get("/login")
    assert page.status_code == 200, page.text[:500]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 303, answer.text[:500]


def airflow_json(stack: Stack, *args):
    """An `airflow ... -o json` answer, whatever warnings the CLI prints around it."""
    out = stack.exec("airflow-scheduler", "airflow", *args, "-o", "json").stdout
    lines = [ln for ln in out.splitlines() if ln.startswith("[")]  # its log lines are JSON objects
    return json.loads(lines[-1]) if lines else []


def survey(stack: Stack) -> str:
    """Switch the monthly DAG on (that starts no run: its first scheduled one is the next month's) and trigger
    it, as ops would in the UI; wait for the run."""
    stack.exec("airflow-scheduler", "airflow", "dags", "reserialize", check=False)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if stack.exec("airflow-scheduler", "airflow", "dags", "unpause", DAG, check=False).returncode == 0:
            break
        time.sleep(5)
    run_id = airflow_json(stack, "dags", "trigger", DAG)[0]["dag_run_id"]
    assert [r["run_id"] for r in airflow_json(stack, "dags", "list-runs", DAG)] == [run_id], "one run, not two"
    deadline = time.monotonic() + 1800
    state = None
    while time.monotonic() < deadline:
        runs = airflow_json(stack, "dags", "list-runs", DAG)
        state = next(r["state"] for r in runs if r["run_id"] == run_id)
        if state in ("success", "failed"):
            break
        time.sleep(10)
    assert state == "success", f"{run_id}: {state}\n{stack.logs('airflow-worker')}\n{stack.logs('airflow-scheduler')}"
    return run_id


def what_is_there(stack: Stack) -> dict:
    return {"runs": stack.sql("SELECT run_key, status FROM crawl_runs ORDER BY id"),
            "listings": stack.sql("SELECT count(*) FROM listings"),
            "queue": stack.sql("SELECT listing_id, status FROM review_queue ORDER BY id"),
            "evidence": stack.sql("SELECT id, kind, sha256 FROM evidence WHERE sha256 IS NOT NULL ORDER BY id"),
            "photos": stack.sql("SELECT id, sha256 FROM listing_photos WHERE sha256 IS NOT NULL ORDER BY id"),
            "decisions": stack.sql("SELECT listing_id, decision, decided_by FROM review_decisions ORDER BY id"),
            "audit": stack.sql("SELECT id, user_name, action, entity, entity_id FROM audit_log ORDER BY id")}


def open_item_with_evidence(client: httpx.Client) -> dict:
    """The analyst's path: the queue, an item, its archived page and its photos, all through the proxy."""
    queue = client.get("/")
    assert queue.status_code == 200
    item = re.search(r'href="(/item/\d+)"', queue.text)
    assert item, queue.text[:2000]
    page = client.get(item.group(1))
    assert page.status_code == 200
    evidence = re.search(r'(/evidence/\d+)', page.text)
    assert evidence, page.text[:3000]
    archived = client.get(evidence.group(1))
    assert archived.status_code == 200 and archived.headers["content-security-policy"].startswith("sandbox")
    photos = sorted(set(re.findall(r'(/photo/\d+)(?:/thumb)?"', page.text)))
    for photo in photos:
        assert client.get(photo).status_code == 200, photo
    return {"item": item.group(1), "evidence": evidence.group(1), "page": archived.content, "photos": photos}


def test_the_stack_surveys_serves_evidence_through_tls_and_keeps_everything_when_recreated(stack):
    stack.wait_healthy(SERVICES)
    init = subprocess.run(["podman", "inspect", stack.container("airflow-init"), "--format", "{{.State.ExitCode}}"],
                          capture_output=True, text=True, env=stack.env)
    assert init.stdout.strip() == "0", stack.logs("airflow-init")

    run_id = survey(stack)
    assert stack.sql(f"SELECT status FROM crawl_runs WHERE run_key = '{run_id}'") == [["succeeded"]]
    counts = what_is_there(stack)
    assert counts["queue"] and counts["evidence"] and counts["photos"]
    # every WARC, screenshot and photo the worker kept is in the object store, intact
    verified = stack.exec("airflow-worker", "wildwatch", "evidence", "verify")
    assert "evidence store OK" in verified.stdout
    assert stack.exec("review", "ls", "/srv/wildwatch").returncode == 0

    stack.exec("review", "wildwatch", "users", "add", "sam", "--role", "supervisor", input=PASSWORD + "\n")
    context = stack.ca(stack.folder)
    with httpx.Client(base_url=stack.base, verify=context, follow_redirects=False, timeout=60) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        login(client, "sam")
        seen = open_item_with_evidence(client)
        cookies = dict(client.cookies)
    before = what_is_there(stack)
    assert before["audit"][-1][1:4] == ["airflow", "user_add", "user"]
    # The proxy speaks TLS only with a certificate the client can check; plain HTTP gets nothing.
    with pytest.raises(httpx.HTTPError):
        httpx.get(stack.base, verify=True, timeout=10)

    stack.run("down", timeout=900)
    assert not subprocess.run(["podman", "ps", "-aq", "--filter", f"label=io.podman.compose.project={PROJECT}"],
                              capture_output=True, text=True, env=stack.env).stdout.strip(), "containers left"
    stack.run("up", "--demo", timeout=1200)
    stack.wait_healthy(SERVICES)

    assert what_is_there(stack) == before
    verified = stack.exec("airflow-worker", "wildwatch", "evidence", "verify")
    assert "evidence store OK" in verified.stdout
    context = stack.ca(stack.folder)  # the proxy's CA lives in its volume: the same one
    with httpx.Client(base_url=stack.base, verify=context, follow_redirects=False, timeout=60,
                      cookies=cookies) as client:
        # sessions live in the database: the analyst is still logged in after every container was replaced
        assert client.get("/").status_code == 200
        again = client.get(seen["evidence"])
        assert again.status_code == 200 and again.content == seen["page"]
        for photo in seen["photos"]:
            assert client.get(photo).status_code == 200
        assert client.get(seen["item"]).status_code == 200
