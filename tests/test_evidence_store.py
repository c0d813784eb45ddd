"""The evidence store's contract, run against both backends: a local folder and a real S3-compatible server
(SeaweedFS on loopback). Whatever the backend, a file is named by its SHA-256, checked on write and on
read, never overwritten, listed, deleted on purpose only, and a store that cannot answer says so."""
from __future__ import annotations

import hashlib
import os
import threading

import pytest

from wildwatch.evidence.store import (EvidenceAltered, EvidenceMissing, EvidenceStoreError, LocalEvidenceStore,
                                      open_store)


@pytest.fixture(params=["folder", "s3"])
def backend(request, tmp_path, monkeypatch):
    if request.param == "folder":
        monkeypatch.setenv("WILDWATCH_EVIDENCE_STORE", str(tmp_path / "evidence"))
        return open_store()
    request.getfixturevalue("s3_store_env")
    return open_store()


def tamper(store, sha: str, data: bytes) -> None:
    """Change a stored file behind the store's back, as an intruder with write access to the disk or
    the bucket would (the store itself refuses to)."""
    if isinstance(store, LocalEvidenceStore):
        path = store.path(sha)
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        store.s3.put_object(Bucket=store.bucket, Key=store.key(sha), Body=data)


def test_a_file_is_named_by_its_hash_and_read_back_whole(backend):
    data = os.urandom(300_000) + "象牙 ngà voi pembe".encode()
    sha = backend.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert backend.get(sha) == data
    assert backend.exists(sha) and sha in backend.location(sha)
    assert backend.put(b"") == hashlib.sha256(b"").hexdigest() and backend.get(backend.put(b"")) == b""


def test_the_same_bytes_are_kept_once_and_listed_with_their_size(backend):
    first, second = backend.put(b"page one"), backend.put(b"page two")
    assert backend.put(b"page one") == first
    assert sorted(backend.files()) == sorted([(first, 8), (second, 8)])


def test_a_file_the_store_does_not_hold_is_missing_not_empty(backend):
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not backend.exists(absent)
    with pytest.raises(EvidenceMissing) as caught:
        backend.get(absent)
    assert isinstance(caught.value, FileNotFoundError) and absent in str(caught.value)
    with pytest.raises(ValueError):
        backend.get("../../etc/passwd")


def test_bytes_changed_after_capture_are_refused_on_read(backend):
    sha = backend.put(b"the ad as the crawler saw it")
    tamper(backend, sha, b"the ad as someone wished it read")
    with pytest.raises(EvidenceAltered) as caught:
        backend.get(sha)
    assert backend.location(sha) in str(caught.value)


def test_storing_again_never_replaces_what_was_stored(backend):
    sha = backend.put(b"original")
    assert backend.put(b"original") == sha and backend.get(sha) == b"original"
    if not isinstance(backend, LocalEvidenceStore):
        # the write itself is conditional: a racing writer of other bytes under the same name is refused
        with pytest.raises(Exception, match="PreconditionFailed|412"):
            backend.s3.put_object(Bucket=backend.bucket, Key=backend.key(sha), Body=b"other", IfNoneMatch="*")
    else:
        assert not os.access(backend.path(sha), os.W_OK) or os.getuid() == 0
        assert backend.path(sha).stat().st_mode & 0o222 == 0, "stored files are read-only"
    assert backend.get(sha) == b"original"


def test_many_workers_storing_the_same_page_at_once_leave_one_good_file(backend):
    data = os.urandom(1_000_000)
    results, errors = [], []

    def store_it():
        try:
            results.append(backend.put(data))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)
    threads = [threading.Thread(target=store_it) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and set(results) == {hashlib.sha256(data).hexdigest()}
    assert backend.get(results[0]) == data and len(list(backend.files())) == 1


def test_delete_removes_only_what_it_names(backend):
    keep, drop = backend.put(b"keep me"), backend.put(b"drop me")
    assert backend.delete(drop) is True and backend.delete(drop) is False
    assert not backend.exists(drop) and backend.exists(keep)
    with pytest.raises(EvidenceMissing):
        backend.get(drop)


def test_a_store_that_cannot_answer_says_which_and_why(backend, tmp_path, monkeypatch):
    if isinstance(backend, LocalEvidenceStore):
        blocked = tmp_path / "not-a-folder"
        blocked.write_text("a file where the store's folder should be")
        store = LocalEvidenceStore(blocked)
        where = str(blocked)
    else:
        from wildwatch.evidence import s3store
        from helpers import free_port

        conf = {**s3store.settings(), "endpoint": f"http://127.0.0.1:{free_port()}"}
        store = s3store.S3EvidenceStore("evidence", "", conf)
        where = "s3://evidence/"
    with pytest.raises(EvidenceStoreError) as caught:
        store.put(b"a page")
    assert where in str(caught.value) and "refused" in str(caught.value)


def test_an_s3_store_with_object_lock_keeps_the_original_under_retention(s3_store_env, monkeypatch):
    from wildwatch.evidence import s3store

    monkeypatch.setenv("WILDWATCH_S3_OBJECT_LOCK_DAYS", "1")
    store = open_store(s3_store_env.replace("s3://evidence-", "s3://locked-").split("/wildwatch")[0])
    assert store.create_bucket() is True
    sha = store.put(b"seized ivory, lot 7")
    retention = store.s3.get_object_retention(Bucket=store.bucket, Key=store.key(sha))["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    version = store.s3.list_object_versions(Bucket=store.bucket, Prefix=store.key(sha))["Versions"][0]["VersionId"]
    with pytest.raises(Exception, match="AccessDenied"):  # not without the governance bypass
        store.s3.delete_object(Bucket=store.bucket, Key=store.key(sha), VersionId=version)
    tamper(store, sha, b"forged")  # a versioned bucket takes it as a new version ...
    with pytest.raises(EvidenceAltered):  # ... which the read refuses
        store.get(sha)
    original = store.s3.get_object(Bucket=store.bucket, Key=store.key(sha), VersionId=version)["Body"].read()
    assert original == b"seized ivory, lot 7", "the captured bytes are still there under retention"
    assert isinstance(store, s3store.S3EvidenceStore)


def test_the_store_is_chosen_by_one_setting(tmp_path, monkeypatch):
    from wildwatch.evidence import s3store

    monkeypatch.delenv("WILDWATCH_EVIDENCE_STORE", raising=False)
    monkeypatch.setenv("WILDWATCH_EVIDENCE_DIR", str(tmp_path / "ev"))
    assert isinstance(open_store(), LocalEvidenceStore) and open_store().root == tmp_path / "ev"
    monkeypatch.setenv("WILDWATCH_EVIDENCE_STORE", "s3://bucket/some/prefix")
    monkeypatch.setenv("WILDWATCH_S3_ENDPOINT", "http://127.0.0.1:9")
    store = open_store()
    assert isinstance(store, s3store.S3EvidenceStore) and store.prefix == "some/prefix/"
    assert store.location("a" * 64) == f"s3://bucket/some/prefix/aa/aa/{'a' * 64}"
    with pytest.raises(ValueError):
        s3store.open_bucket("s3:///no-bucket")
