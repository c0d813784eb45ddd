"""Where this checkout's services listen: the environment, else the usual port while free, else a free one,
kept for the next command."""
import socket

from wildwatch import ports


def _hold(port: int) -> socket.socket | None:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
        return s
    except OSError:
        s.close()
        return None


def test_a_held_port_is_traded_for_free_ones_and_the_choice_is_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("WILDWATCH_DEMO_PORT", raising=False)
    first = ports._any_free(6)
    monkeypatch.setitem(ports.PORTS, "demo", ("WILDWATCH_DEMO_PORT", first, 6))
    assert ports.get("demo", tmp_path) == first  # never chosen yet: the usual one
    assert ports.claim("demo", tmp_path) == first
    held = _hold(first + 3)  # one of the six is taken by another checkout
    try:
        other = ports.claim("demo", tmp_path)
        assert other != first and ports.free(other, 6)
        assert ports.get("demo", tmp_path) == other  # the next command finds the same servers
        assert ports.claim("demo", tmp_path) == other  # and keeps them while they are free
    finally:
        held.close()


def test_the_environment_fixes_a_port_even_when_it_is_held(tmp_path, monkeypatch):
    busy = _hold(0)
    port = busy.getsockname()[1]
    try:
        monkeypatch.setenv("WILDWATCH_REVIEW_PORT", str(port))
        assert ports.fixed("review")
        assert ports.claim("review", tmp_path) == port == ports.get("review", tmp_path)
        assert not (tmp_path / "ports.json").exists()
    finally:
        busy.close()


def test_a_var_folder_that_cannot_be_written_costs_the_record_not_the_service(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("WILDWATCH_DEMO_PORT", raising=False)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where var/ should be")  # as a read-only or missing volume would
    port = ports.claim("demo", blocked)
    assert port and "set WILDWATCH_DEMO_PORT" in caplog.text


def test_hostile_port_settings_get_one_line_not_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "ports.json").write_text('{"pg": "54329; DROP", "demo": 70000, "review": true, "x": 1}')
    assert ports.get("pg", tmp_path) == 54329 and ports.get("demo", tmp_path) == 8701  # damaged entries: no choice
    assert ports.get("review", tmp_path) == 8700
    (tmp_path / "ports.json").write_text("[1, 2]")
    assert ports.get("airflow", tmp_path) == 8080
    for value in ("8701x", "0", "65535", "-1", "99999999999999999999"):
        env = {**os.environ, "WILDWATCH_VAR_DIR": str(tmp_path), "WILDWATCH_DEMO_PORT": value}
        done = subprocess.run([sys.executable, "-m", "wildwatch.cli", "demo-report"], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 1 and "WILDWATCH_DEMO_PORT must be a port number" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_airflow_test_refuses_conf_that_is_not_a_json_object_and_odd_dag_ids(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "WILDWATCH_VAR_DIR": str(tmp_path)}
    for args, problem in ((["wildwatch_survey", "--conf", "{nope"], "--conf is not JSON"),
                          (["wildwatch_survey", "--conf", "[1]"], "--conf must be a JSON object"),
                          (["../../etc\x01"], "not a DAG id")):
        done = subprocess.run([sys.executable, "-m", "wildwatch.cli", "airflow", "test", *args], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1 and problem in done.stderr and "Traceback" not in done.stderr, done.stderr
