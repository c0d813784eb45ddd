"""The evidence store on S3-compatible object storage (AWS S3, MinIO, Ceph RGW, Garage, SeaweedFS), so that
workers on several machines and the review app share one store that outlives every container.

WILDWATCH_EVIDENCE_STORE=s3://bucket[/prefix]; the server and credentials from WILDWATCH_S3_ENDPOINT,
WILDWATCH_S3_ACCESS_KEY, WILDWATCH_S3_SECRET_KEY, WILDWATCH_S3_REGION (else boto3's own AWS_* chain).
WILDWATCH_S3_OBJECT_LOCK_DAYS > 0 puts every object under a governance-mode retention of that many days
where the bucket was created with object lock (`wildwatch evidence init` does so)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import threading
from typing import Iterator
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from wildwatch.evidence.store import EvidenceMissing, EvidenceStoreError, checked, key_of, sha256_hex

_clients: dict[tuple, object] = {}
_lock = threading.Lock()
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
EXISTS = {"412", "PreconditionFailed", "ConditionalRequestConflict"}


def settings() -> dict:
    return {"endpoint": os.environ.get("WILDWATCH_S3_ENDPOINT") or None,
            "access_key": os.environ.get("WILDWATCH_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("WILDWATCH_S3_SECRET_KEY") or None,
            "region": os.environ.get("WILDWATCH_S3_REGION") or "us-east-1",
            "lock_days": int(os.environ.get("WILDWATCH_S3_OBJECT_LOCK_DAYS") or 0)}


def client(conf: dict):
    """One client per server and key (boto3 clients are thread-safe; making one costs tens of ms)."""
    key = (conf["endpoint"], conf["access_key"], conf["secret_key"], conf["region"])
    with _lock:
        if key not in _clients:
            session = boto3.session.Session()
            _clients[key] = session.client(
                "s3", endpoint_url=conf["endpoint"], region_name=conf["region"],
                aws_access_key_id=conf["access_key"], aws_secret_access_key=conf["secret_key"],
                config=Config(s3={"addressing_style": "path"}, connect_timeout=5, read_timeout=60,
                              retries={"mode": "standard", "max_attempts": 4}, max_pool_connections=32,
                              # We hash every object ourselves (SHA-256 in its name); the newer default
                              # CRC trailers are not understood by every S3-compatible server.
                              request_checksum_calculation="when_required",
                              response_checksum_validation="when_required"))
        return _clients[key]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3EvidenceStore:
    def __init__(self, bucket: str, prefix: str = "", conf: dict | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.conf = conf or settings()
        self.s3 = client(self.conf)

    def key(self, sha256: str) -> str:
        return self.prefix + key_of(sha256)

    def location(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key(sha256)}"

    def _fail(self, action: str, exc: Exception) -> EvidenceStoreError:
        detail = f"{_code(exc)} {exc}" if isinstance(exc, ClientError) else str(exc)
        return EvidenceStoreError(f"evidence store s3://{self.bucket}/{self.prefix} refused to {action}: {detail}")

    def put(self, data: bytes) -> str:
        digest = sha256_hex(data)
        if self.exists(digest):
            return digest
        extra = {}
        if self.conf["lock_days"] > 0:
            extra = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate":
                     dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=self.conf["lock_days"])}
        try:
            # Content-MD5 makes the server refuse bytes damaged on the way; If-None-Match keeps the first
            # write when two workers store the same page at once.
            self.s3.put_object(Bucket=self.bucket, Key=self.key(digest), Body=data, IfNoneMatch="*",
                               ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
                               ContentType="application/octet-stream", **extra)
        except ClientError as exc:
            if _code(exc) in EXISTS:
                return digest
            raise self._fail("take a file", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("take a file", exc) from exc
        return digest

    def get(self, sha256: str) -> bytes:
        try:
            data = self.s3.get_object(Bucket=self.bucket, Key=self.key(sha256))["Body"].read()
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                raise EvidenceMissing(f"{self.location(sha256)}: not in the evidence store") from exc
            raise self._fail("give a file", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("give a file", exc) from exc
        return checked(sha256, data, self.location(sha256))

    def exists(self, sha256: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as exc:
            if _code(exc) in NOT_FOUND:
                return False
            raise self._fail("look up a file", exc) from exc
        except BotoCoreError as exc:
            raise self._fail("look up a file", exc) from exc
        return True

    def delete(self, sha256: str) -> bool:
        """Remove every version (a versioned bucket would otherwise keep the bytes); a retained object stays
        and the error says so."""
        if not self.exists(sha256):
            return False
        key = self.key(sha256)
        try:
            versions = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key).get("Versions", [])
            ids = [v["VersionId"] for v in versions if v["Key"] == key and v.get("VersionId") not in (None, "null")]
            for version in ids:
                self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=version,
                                      BypassGovernanceRetention=True)
            if not ids:
                self.s3.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("delete a file", exc) from exc
        return True

    def files(self) -> Iterator[tuple[str, int]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        try:
            for page in pages:
                for obj in page.get("Contents", []):
                    name = obj["Key"].rsplit("/", 1)[-1]
                    if len(name) == 64:
                        yield name, obj["Size"]
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("list its files", exc) from exc

    def check(self) -> None:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail("show its bucket", exc) from exc

    def create_bucket(self) -> bool:
        """Create the bucket (with object lock when retention is asked for); False when it exists."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if _code(exc) not in NOT_FOUND | {"NoSuchBucket"}:
                raise self._fail("show its bucket", exc) from exc
        args = {"Bucket": self.bucket}
        if self.conf["lock_days"] > 0:
            args["ObjectLockEnabledForBucket"] = True
        if self.conf["region"] != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.conf["region"]}
        try:
            self.s3.create_bucket(**args)
        except ClientError as exc:
            if _code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return False
            raise self._fail("create its bucket", exc) from exc
        return True


def open_bucket(location: str) -> S3EvidenceStore:
    parts = urlsplit(location)
    if parts.scheme != "s3" or not parts.netloc:
        raise ValueError(f"not an s3://bucket[/prefix] address: {location!r}")
    return S3EvidenceStore(parts.netloc, parts.path)
