"""Content-addressed evidence stores. A file's name is its SHA-256, so a stored file can be checked
against its name alone and the same page captured twice is kept once.

Only the local folder store exists today; an S3-compatible store implements the same four methods."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Protocol


class EvidenceStoreError(OSError):
    """The store could not take a file (full, unwritable, gone); the message says which and why."""


class EvidenceStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def location(self, sha256: str) -> str: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LocalEvidenceStore:
    """Files under root/ab/cd/abcd...; written to a temporary name and renamed, so a crash never leaves a
    half-written file under a valid hash."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def location(self, sha256: str) -> str:
        return str(self.path(sha256))

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o444)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise EvidenceStoreError(f"evidence store {self.root} refused the file: "
                                     f"{exc.strerror or exc}") from exc
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def files(self) -> Iterator[tuple[str, Path]]:
        for path in sorted(self.root.glob("??/??/*")):
            if not path.name.startswith("."):
                yield path.name, path


def open_store(root: Path | None = None) -> LocalEvidenceStore:
    from wildwatch import config

    return LocalEvidenceStore(root or config.load().evidence_dir)
