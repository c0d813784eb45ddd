"""The restore drill: survey, decide, refer, back up; destroy the database and the evidence store; restore.
Then `evidence verify` passes, every referral package rebuilds byte for byte, and the review app shows the
same items and audit trail. Run with the store on a real S3 server and backups in a folder, and the other
way round."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import psycopg2
import pytest
from fastapi.testclient import TestClient

from helpers import sign_in
from test_crawl import ROOT
from test_referrals import confirm, crawl_month
from wildwatch import backup
from wildwatch.evidence.store import LocalEvidenceStore, open_store
from wildwatch.referrals import build, package
from wildwatch.review import accounts, claims
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"


def cli(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wildwatch.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def views(database_url, env) -> dict[str, str]:
    """What a supervisor and the analyst see, with the per-session form tokens taken out."""
    app = create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url,
                                    evidence_dir=env["WILDWATCH_EVIDENCE_STORE"]))
    seen = {}
    for name, pages in (("sam", ["/audit", "/referrals", "/networks"]), ("amina", ["/mine", "/audit"])):
        with TestClient(app) as client:
            assert sign_in(client, name, PASSWORD, follow_redirects=False).status_code == 303
            for page in pages:
                answer = client.get(page)
                assert answer.status_code == 200, (page, answer.text[:300])
                seen[f"{name} {page}"] = re.sub(r'(csrf[^"]*" (?:value|content)=")[^"]+', r"\1", answer.text)
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM evidence WHERE sha256 IS NOT NULL ORDER BY id")
        evidence_ids = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT id FROM listing_photos WHERE sha256 IS NOT NULL ORDER BY id")
        photo_ids = [r[0] for r in cur.fetchall()]
    with TestClient(app) as client:
        sign_in(client, "sam", PASSWORD)
        for eid in evidence_ids:
            seen[f"/evidence/{eid}"] = client.get(f"/evidence/{eid}").content.hex()
        for pid in photo_ids:
            seen[f"/photo/{pid}"] = client.get(f"/photo/{pid}").content.hex()
    return seen


def table(database_url, sql) -> list[tuple]:
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def destroy(database_url, pg_cluster, store_location) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin = psycopg2.connect(pg_cluster.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    store = open_store(store_location)
    if isinstance(store, LocalEvidenceStore):
        shutil.rmtree(store.root)
    else:
        for digest, _ in list(store.files()):
            store.delete(digest)
    assert not list(store.files())


@pytest.mark.parametrize("store_kind, backup_kind", [("s3", "folder"), ("folder", "s3")])
def test_survey_decide_refer_back_up_destroy_restore(store_kind, backup_kind, crawl_env, conn, database_url,
                                                     pg_cluster, tmp_path, request):
    s3 = request.getfixturevalue("s3_store_env") if "s3" in (store_kind, backup_kind) else None
    env = {**crawl_env, **{k: v for k, v in os.environ.items() if k.startswith("WILDWATCH_S3")}}
    env["WILDWATCH_EVIDENCE_STORE"] = s3 if store_kind == "s3" else str(tmp_path / "evidence")
    to = s3.replace("/wildwatch", "/backups") if backup_kind == "s3" else str(tmp_path / "backups")
    request.getfixturevalue("monkeypatch").setenv("WILDWATCH_EVIDENCE_STORE", env["WILDWATCH_EVIDENCE_STORE"])
    store = open_store(env["WILDWATCH_EVIDENCE_STORE"])

    # survey, decide, refer
    crawl_month(conn, env)
    with conn:
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
        accounts.add_user(conn, "sam", "supervisor", PASSWORD)
    confirm(conn, 4)
    confirm(conn, 2, decision="not_wildlife")
    with conn:
        item = claims.claim_next(conn, "amina")
        claims.decide(conn, item["queue_id"], "amina", "unsure", None, None, note="ask Sam")
        rid = build.create_or_refresh(conn, "platform", "demo_vn", "2026-11", "sam")
        _, digest = package.build_package(conn, rid, store, tmp_path / "referrals")
        build.set_status(conn, rid, "approved", "lea")
    assert cli(env, "evidence", "verify").returncode == 0
    before = views(database_url, env)
    decisions_sql = "SELECT id, listing_id, decision, decided_by, decided_at, note FROM review_decisions ORDER BY id"
    audit_sql = "SELECT id, at, user_name, action, entity, entity_id, before, after FROM audit_log ORDER BY id"
    decisions, trail = table(database_url, decisions_sql), table(database_url, audit_sql)
    assert len(decisions) == 7 and len(trail) >= 8

    taken = cli(env, "backup", "--to", to)
    assert taken.returncode == 0, taken.stderr
    assert re.search(r"\d+ evidence objects \(\d+ new", taken.stdout)
    again = cli(env, "backup", "--to", to, "--keep", "1")  # incremental: nothing new to copy; the older goes
    assert again.returncode == 0 and "(0 new, 0 bytes copied)" in again.stdout, again.stdout + again.stderr

    conn.close()
    destroy(database_url, pg_cluster, env["WILDWATCH_EVIDENCE_STORE"])
    assert not table(database_url, "SELECT 1 FROM pg_tables WHERE schemaname = 'public'")
    migrated = cli(env, "db", "migrate")  # a new deployment's init migrates before anyone restores
    assert migrated.returncode == 0 and table(database_url, "SELECT 1 FROM pg_tables WHERE tablename = 'evidence'")

    restored = cli(env, "restore", to)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "restored backup" in restored.stdout
    refused = cli(env, "restore", to)  # a second restore would drop what the first brought back
    assert refused.returncode == 1 and "not empty" in refused.stderr
    checked = cli(env, "evidence", "verify")
    assert checked.returncode == 0 and "evidence store OK" in checked.stdout, checked.stdout

    assert table(database_url, decisions_sql) == decisions
    assert table(database_url, audit_sql) == trail
    with psycopg2.connect(database_url) as fresh:
        ref = build.get(fresh, rid)
        assert ref["status"] == "approved" and ref["package_sha256"].strip() == digest
        rebuilt = package.render(fresh, ref, open_store(env["WILDWATCH_EVIDENCE_STORE"]))
    assert backup.sha256_hex(rebuilt) == digest, "the package rebuilds byte for byte"
    assert open_store(env["WILDWATCH_EVIDENCE_STORE"]).get(digest) == rebuilt
    after = views(database_url, env)
    assert after.keys() == before.keys()
    for page in before:
        assert after[page] == before[page], f"{page} differs after the restore"


def test_a_damaged_or_unfinished_backup_is_refused(crawl_env, conn, database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("WILDWATCH_EVIDENCE_STORE", str(tmp_path / "evidence"))
    env = {**crawl_env, "WILDWATCH_EVIDENCE_STORE": str(tmp_path / "evidence")}
    crawl_month(conn, env)
    conn.close()
    to = tmp_path / "backups"
    assert cli(env, "backup", "--to", str(to)).returncode == 0
    assert cli(env, "restore", str(tmp_path / "nothing-here")).stderr.startswith("error: no finished backup")
    (name,) = [p.name for p in (to / "backups").iterdir()]
    dump = to / "backups" / name / "db.dump"
    whole = dump.read_bytes()
    dump.write_bytes(whole[:-10])
    refused = cli(env, "restore", str(to), "--replace")
    assert refused.returncode == 1 and "damaged" in refused.stderr
    dump.write_bytes(whole)
    objects = list((to / "objects").glob("??/??/*"))
    objects[0].unlink()
    refused = cli(env, "restore", str(to), "--replace")
    assert refused.returncode == 1 and "lacks 1 of its objects" in refused.stderr
    with psycopg2.connect(database_url) as fresh, fresh.cursor() as cur:  # refused before touching anything
        cur.execute("SELECT count(*) FROM listings")
        assert cur.fetchone()[0] > 0
    (to / "backups" / name / "manifest.json").unlink()  # unfinished: never restored from
    assert "no finished backup" in cli(env, "restore", str(to)).stderr


def test_the_nightly_backup_task_backs_up_and_keeps_the_newest(crawl_env, conn, tmp_path, monkeypatch):
    from airflow.sdk.exceptions import AirflowSkipException

    from wildwatch.backup_dag import build_backup_dag

    monkeypatch.setenv("WILDWATCH_EVIDENCE_STORE", str(tmp_path / "evidence"))
    crawl_month(conn, {**crawl_env, "WILDWATCH_EVIDENCE_STORE": str(tmp_path / "evidence")})
    task = build_backup_dag().get_task("back_up").python_callable
    monkeypatch.delenv("WILDWATCH_BACKUP_TO", raising=False)
    with pytest.raises(AirflowSkipException, match="WILDWATCH_BACKUP_TO is not set"):
        task()
    monkeypatch.setenv("WILDWATCH_BACKUP_TO", str(tmp_path / "backups"))
    monkeypatch.setenv("WILDWATCH_BACKUP_KEEP", "2")
    first = task()
    assert first["objects"] > 0 and first["copied"] == first["objects"] and first["pruned"] == []
    import time

    for _ in range(2):
        time.sleep(1.1)  # backups are named by the second
        later = task()
    assert later["copied"] == 0 and later["pruned"] == [first["backup"]]
    assert len(backup.Destination(str(tmp_path / "backups")).names()) == 2
