"""Content-addressed evidence stores. A file's name is its SHA-256, so a stored file can be checked
against its name alone and the same page captured twice is kept once.

Two backends behind one interface: a local folder (the default) and S3-compatible object storage
(`s3store.py`), chosen by WILDWATCH_EVIDENCE_STORE. Both check the hash on write and on every read, and
neither overwrites a file once written."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Protocol


class EvidenceStoreError(OSError):
    """The store could not take or give a file (full, unwritable, gone); the message says which and why."""


class EvidenceMissing(EvidenceStoreError, FileNotFoundError):
    """The database names a file the store does not hold."""


class EvidenceAltered(EvidenceStoreError):
    """The stored bytes no longer hash to the file's name: the evidence was changed after capture."""


class EvidenceStore(Protocol):
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> bool: ...
    def files(self) -> Iterator[tuple[str, int]]: ...
    def location(self, sha256: str) -> str: ...
    def check(self) -> None: ...


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_name(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256: {sha256!r}")
    return sha256


def key_of(sha256: str) -> str:
    """ab/cd/abcd...: two levels of fan-out, the same in a folder and in a bucket."""
    check_name(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def checked(sha256: str, data: bytes, where: str) -> bytes:
    if sha256_hex(data) != sha256:
        raise EvidenceAltered(f"{where}: content does not match its SHA-256 (altered after capture)")
    return data


class LocalEvidenceStore:
    """Files under root/ab/cd/abcd...; written to a temporary name and renamed, so a crash never leaves a
    half-written file under a valid hash; read-only once written."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / key_of(sha256)

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
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceMissing(f"{path}: not in the evidence store") from exc
        return checked(sha256, data, str(path))

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        path = self.path(sha256)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def check(self) -> None:
        """Raise EvidenceStoreError unless files can be written here (the folder is made on first write)."""
        folder = self.root
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise EvidenceStoreError(f"evidence store {self.root}: {folder} is not a writable folder")

    def files(self) -> Iterator[tuple[str, int]]:
        for path in sorted(self.root.glob("??/??/*")):
            if not path.name.startswith("."):
                yield path.name, path.stat().st_size


def open_store(location: str | Path | None = None) -> EvidenceStore:
    """The store at `location`: a folder, or s3://bucket[/prefix] (endpoint and credentials from the
    environment, see s3store). None: WILDWATCH_EVIDENCE_STORE, else the evidence folder."""
    from wildwatch import config

    if location is None:
        location = config.load().evidence_store
    if isinstance(location, str) and location.startswith("s3://"):
        from wildwatch.evidence import s3store

        return s3store.open_bucket(location)
    return LocalEvidenceStore(Path(location))
