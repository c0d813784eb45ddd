"""Backups that restore: the survey database and every evidence object it names, taken together.

A destination (a folder or s3://bucket/prefix) holds
    objects/ab/cd/<sha256>        the evidence objects, content-addressed and shared by every backup, so a
                                  backup copies only what the previous ones do not hold (evidence never
                                  changes once written);
    backups/<UTC time>/db.dump    pg_dump's custom format;
    backups/<UTC time>/objects.txt  the SHA-256 of every object the dump names, one a line;
    backups/<UTC time>/manifest.json  what was taken, with the hashes of the two files above.
The dump and the object list come from one database snapshot (pg_export_snapshot), so the list names
exactly the objects the dump refers to, even while a survey is writing. The manifest is written last: a
backup without one is unfinished and is never restored from."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2

from wildwatch import db
from wildwatch.evidence.store import EvidenceMissing, EvidenceStore, open_store, sha256_hex
from wildwatch.localpg import pg_bindir

REFERENCED = """
SELECT sha256 FROM evidence WHERE sha256 IS NOT NULL
UNION SELECT sha256 FROM listing_photos WHERE sha256 IS NOT NULL
UNION SELECT thumb_sha256 FROM listing_photos WHERE thumb_sha256 IS NOT NULL
UNION SELECT package_sha256 FROM referrals WHERE package_sha256 IS NOT NULL
"""


class BackupError(RuntimeError):
    """A backup or restore could not be completed; the message says what and why."""


class Destination:
    """Backup files (dumps, lists, manifests) and the shared object store, in a folder or a bucket."""

    def __init__(self, location: str):
        self.location = location.rstrip("/")
        self.s3 = self.location.startswith("s3://")
        self.objects = open_store(f"{self.location}/objects" if self.s3 else Path(self.location) / "objects")
        if self.s3:
            parts = urlsplit(self.location)
            self.bucket, self.prefix = parts.netloc, parts.path.strip("/")

    def _key(self, name: str) -> str:
        return "/".join(p for p in (self.prefix, "backups", name) if p)

    def write(self, name: str, data: bytes) -> None:
        if self.s3:
            self.objects.s3.put_object(Bucket=self.bucket, Key=self._key(name), Body=data)
        else:
            path = Path(self.location) / "backups" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.incoming")
            tmp.write_bytes(data)
            os.replace(tmp, path)

    def read(self, name: str) -> bytes:
        try:
            if self.s3:
                return self.objects.s3.get_object(Bucket=self.bucket, Key=self._key(name))["Body"].read()
            return (Path(self.location) / "backups" / name).read_bytes()
        except Exception as exc:  # noqa: BLE001 - any failure to read is reported the same way
            raise BackupError(f"cannot read {name} from {self.location}: {exc}") from exc

    def names(self) -> list[str]:
        """Finished backups (those with a manifest), oldest first."""
        if self.s3:
            pages = self.objects.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(""))
            keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
            return sorted({k.split("/")[-2] for k in keys if k.endswith("/manifest.json")})
        root = Path(self.location) / "backups"
        return sorted(p.parent.name for p in root.glob("*/manifest.json"))

    def remove(self, name: str) -> None:
        if self.s3:
            for file in ("manifest.json", "objects.txt", "db.dump"):
                self.objects.s3.delete_object(Bucket=self.bucket, Key=self._key(f"{name}/{file}"))
        else:
            folder = Path(self.location) / "backups" / name
            for file in ("manifest.json", "objects.txt", "db.dump"):  # the manifest first: unfinished at once
                (folder / file).unlink(missing_ok=True)
            folder.rmdir()


@dataclass
class Summary:
    name: str
    objects: int
    copied: int
    bytes_copied: int
    dump_bytes: int


def _pg_tool(name: str) -> str:
    return str(pg_bindir() / name)


def backup(database_url: str, store: EvidenceStore, to: str, now: dt.datetime | None = None) -> Summary:
    dest = Destination(to)
    name = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    conn = psycopg2.connect(database_url)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot(), (SELECT max(version) FROM schema_migrations)")
            snapshot, schema = cur.fetchone()
            cur.execute(REFERENCED + " ORDER BY 1")
            hashes = [r[0].strip() for r in cur.fetchall()]
            with tempfile.TemporaryDirectory() as tmp:
                dump = Path(tmp) / "db.dump"
                # While this transaction stays open, pg_dump reads the very snapshot the list came from.
                done = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                       f"--snapshot={snapshot}", f"--file={dump}", f"--dbname={database_url}"],
                                      capture_output=True, text=True, timeout=6 * 3600)
                if done.returncode:
                    raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
                dump_bytes = dump.read_bytes()
    finally:
        conn.close()
    copied = size = 0
    missing = []
    for digest in hashes:
        if dest.objects.exists(digest):
            continue
        try:
            data = store.get(digest)  # checked against its hash on the way out ...
        except EvidenceMissing:
            missing.append(digest)
            continue
        dest.objects.put(data)  # ... and on the way in
        copied += 1
        size += len(data)
    listing = "".join(f"{h}\n" for h in hashes).encode()
    dest.write(f"{name}/db.dump", dump_bytes)
    dest.write(f"{name}/objects.txt", listing)
    manifest = {"backup": name, "created_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "schema_version": schema, "database": db.mask_url(database_url),
                "db_dump": {"sha256": sha256_hex(dump_bytes), "bytes": len(dump_bytes)},
                "objects": {"sha256": sha256_hex(listing), "count": len(hashes),
                            "missing_from_store": missing}}
    dest.write(f"{name}/manifest.json", json.dumps(manifest, indent=1).encode())
    return Summary(name, len(hashes), copied, size, len(dump_bytes))


def prune(to: str, keep: int) -> list[str]:
    """Keep the newest `keep` backups; delete the others and every object no kept backup names."""
    if keep < 1:
        raise BackupError("keep at least one backup")
    dest = Destination(to)
    names = dest.names()
    gone = names[:-keep]
    for name in gone:
        dest.remove(name)
    wanted = set()
    for name in names[-keep:]:
        wanted.update(dest.read(f"{name}/objects.txt").decode().split())
    for digest, _size in list(dest.objects.files()):
        if digest not in wanted:
            dest.objects.delete(digest)
    return gone


HOLDS_WORK = ("listings", "crawl_runs", "review_decisions", "audit_log", "referrals")


def _state(conn) -> str:
    """'bare' (no tables), 'schema' (migrated, none of the work tables holds a row) or 'data'."""
    with conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = {r[0] for r in cur.fetchall()}
        if not tables:
            return "bare"
        for name in HOLDS_WORK:
            if name in tables:
                cur.execute(f"SELECT EXISTS (SELECT 1 FROM {name})")  # names from the constant above
                if cur.fetchone()[0]:
                    return "data"
    return "schema"


def restore(database_url: str, store: EvidenceStore, source: str, name: str = "latest",
            replace: bool = False) -> dict:
    """The database from the dump, then every object it names back into the store (each checked)."""
    dest = Destination(source)
    names = dest.names()
    if not names:
        raise BackupError(f"no finished backup in {source}")
    if name == "latest":
        name = names[-1]
    elif name not in names:
        raise BackupError(f"no finished backup {name!r} in {source} (there are: {', '.join(names)})")
    manifest = json.loads(dest.read(f"{name}/manifest.json"))
    dump, listing = dest.read(f"{name}/db.dump"), dest.read(f"{name}/objects.txt")
    if sha256_hex(dump) != manifest["db_dump"]["sha256"] or sha256_hex(listing) != manifest["objects"]["sha256"]:
        raise BackupError(f"backup {name} is damaged: its files do not match the manifest's hashes")
    hashes = listing.decode().split()
    absent = [h for h in hashes if not dest.objects.exists(h)]
    if absent:
        raise BackupError(f"backup {name} lacks {len(absent)} of its objects (first: {absent[0]})")
    conn = psycopg2.connect(database_url)
    try:
        state = _state(conn)
    finally:
        conn.close()
    if state == "data" and not replace:
        raise BackupError("the database is not empty (it holds listings, runs, decisions or referrals): restore "
                          "into a new database, or pass --replace to drop what is there")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db.dump"
        path.write_bytes(dump)
        args = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
                "--exit-on-error", f"--dbname={database_url}", str(path)]
        if state != "bare":  # a freshly migrated schema (a new deployment's init) is replaced as well
            args[1:1] = ["--clean", "--if-exists"]
        done = subprocess.run(args, capture_output=True, text=True, timeout=6 * 3600)
        if done.returncode:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    restored = 0
    for digest in hashes:
        if not store.exists(digest):
            store.put(dest.objects.get(digest))  # get refuses a damaged copy; put names it by its hash again
            restored += 1
    return {"backup": name, "schema_version": manifest["schema_version"], "objects": len(hashes),
            "objects_restored": restored, "missing_at_backup": manifest["objects"]["missing_from_store"]}
