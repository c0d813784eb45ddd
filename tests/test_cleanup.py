"""The suite cleans up after itself: folders and PostgreSQL servers go away when a run ends, however it ends
short of SIGKILL, and the next run reaps what a killed run left (recognised by its marker, not its name)."""
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import scratch_dirs

ROOT = Path(__file__).resolve().parent.parent


# The nested pytest starts with SIGINT and SIGTERM unblocked and handled as Python does by default: an ignored or
# blocked signal is inherited from whatever spawned it (an xdist worker that ran Airflow, Celery or joblib code
# in-process), and this test is about our clean-up, not about the state its parent was left in.
_NESTED = ("import signal, sys, pytest; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM}); "
           "signal.signal(signal.SIGINT, signal.default_int_handler); signal.signal(signal.SIGTERM, signal.SIG_DFL); "
           "sys.exit(pytest.main(sys.argv[1:]))")


@pytest.fixture(autouse=True)
def _one_nested_session_at_a_time():
    """Every nested session reaps at its start what a killed one left: with xdist, a test here on the other
    worker could reap this test's killed run before this test's own next run does (seen once in CI). The lock
    is on this file, so nothing is created and nothing can be left behind."""
    with open(__file__, "rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def _nested(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _NESTED, "-q", "-s", "-p", "no:cacheprovider", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc, timeout_s: float = 120) -> str:
    """The nested run's output once it ends; if it does not, what it was doing (signal state, where it waits)."""
    try:
        return proc.communicate(timeout=timeout_s)[0]
    except subprocess.TimeoutExpired:
        status = Path(f"/proc/{proc.pid}/status").read_text()
        state = [line for line in status.splitlines() if line.startswith(("State", "SigPnd", "ShdPnd", "SigBlk",
                                                                         "SigIgn", "SigCgt"))]
        wchan = Path(f"/proc/{proc.pid}/wchan").read_text()
        proc.kill()
        out = proc.communicate()[0]
        pytest.fail(f"the nested run did not end {timeout_s:.0f} s after the signal: {state}, waiting in {wchan}; "
                    f"its output:\n{out[-3000:]}")


def _ready(proc) -> Path:
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if "READY" in line:
            break
        if time.monotonic() > deadline:
            break
    [home] = scratch_dirs.owned_by(proc.pid)
    assert scratch_dirs.servers_under({home}), "the nested session's server is running"
    return home


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_folder_and_no_server(sig):
    proc = _nested("tests/probe_cleanup.py")
    home = _ready(proc)
    proc.send_signal(sig)
    out = _finish(proc)
    assert proc.returncode != 0, "the nested run was interrupted, it did not finish its test"
    assert not home.exists(), out[-2000:]
    assert not scratch_dirs.servers_under({home}), out[-2000:]


def test_the_next_run_reaps_what_a_killed_run_left_and_nothing_of_a_live_run():
    killed = _nested("tests/probe_cleanup.py")
    home = _ready(killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait(timeout=30)
    assert home.exists() and scratch_dirs.servers_under({home})  # SIGKILL: nothing can clean up
    live = scratch_dirs.make("live")  # this session's own folder: its owner (us) is alive
    try:
        nxt = _nested("tests/probe_cleanup.py", "--collect-only")
        out = _finish(nxt)
        assert f"removed {home}" in out, out[-2000:]
        assert not home.exists() and not scratch_dirs.servers_under({home})
        assert live.exists(), "a live run's folder is never touched"
        unmarked = Path(scratch_dirs.ROOT / f"{scratch_dirs.PREFIX}nomarker-{os.getpid()}")
        unmarked.mkdir()
        try:
            _finish(_nested("tests/probe_cleanup.py", "--collect-only"))
            assert unmarked.exists(), "a folder without a marker is not provably a test's: left alone"
        finally:
            unmarked.rmdir()
    finally:
        scratch_dirs.remove(live)
