"""Evidence at capture: real crawls of the demo marketplaces keep a WARC (and screenshots where asked) for
every candidate and nothing for other listings; bad stores, big pages and slow screenshots are recorded."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from test_crawl import ROOT, count, crawl, latest_run
from wildwatch.evidence import warc
from wildwatch.evidence.store import LocalEvidenceStore, open_store


def evidence_rows(conn, kind=None):
    with conn.cursor() as cur:
        cur.execute("""SELECT e.listing_id, e.kind, e.sha256, e.size_bytes, e.missing_reason, e.page_url,
                              e.crawler_version, e.run_id, l.title
                       FROM evidence e JOIN listings l ON l.id = e.listing_id
                       WHERE %s::text IS NULL OR e.kind = %s ORDER BY e.listing_id""", (kind, kind))
        return cur.fetchall()


def verify(env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wildwatch.cli", "evidence", "verify"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(params=["folder", "s3"])
def store_env(request, crawl_env):
    """The crawl's environment with its evidence store in a folder, or in a bucket on a real S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3_store_env")
        crawl_env = {**crawl_env, **{k: v for k, v in os.environ.items()
                                     if k.startswith(("WILDWATCH_S3", "WILDWATCH_EVIDENCE_STORE"))}}
    return crawl_env


def store_of(env):
    return open_store(env.get("WILDWATCH_EVIDENCE_STORE") or Path(env["WILDWATCH_VAR_DIR"]) / "evidence")


def test_every_candidate_gets_a_warc_and_other_listings_none(store_env, conn):
    crawl_env = store_env
    crawl("demo_vn", crawl_env)
    run_id = latest_run(conn)
    store = store_of(crawl_env)
    rows = evidence_rows(conn, "warc")
    with conn.cursor() as cur:
        cur.execute("SELECT listing_id FROM review_queue")
        queued = {r[0] for r in cur.fetchall()}
    assert queued and {r[0] for r in rows} == queued, "one WARC per candidate, none for other listings"
    assert len(rows) == len(queued)
    assert not evidence_rows(conn, "screenshot"), "static pages are not screenshotted unless the site asks"
    for _listing, _, sha, size, missing, page_url, version, row_run, title in rows:
        assert missing is None and row_run == run_id and version.startswith("wildwatch/")
        data = store.get(sha)
        assert hashlib.sha256(data).hexdigest() == sha and len(data) == size
        url, status, body = warc.read_response(data)
        assert url == page_url and status == 200
        assert title.split()[0] in body.decode("utf-8"), "the archived page is the one the listing came from"
    result = verify(crawl_env)
    assert result.returncode == 0, result.stdout + result.stderr
    with conn.cursor() as cur:  # the candidates' photos and their thumbnails are evidence files too
        cur.execute("SELECT sha256 FROM listing_photos UNION SELECT thumb_sha256 FROM listing_photos")
        photo_files = {r[0] for r in cur.fetchall()}
    assert photo_files and len(photo_files) >= 2 * len(queued)
    assert f"checked {len({r[2] for r in rows} | photo_files)} evidence files" in result.stdout


def test_a_rerun_of_the_same_run_keeps_one_capture_per_candidate(crawl_env, conn):
    crawl("demo_tz", crawl_env)
    run_id = latest_run(conn)
    before = count(conn, "evidence")
    crawl("demo_tz", crawl_env, "-a", f"run_id={run_id}")
    assert count(conn, "evidence") == before > 0


def test_altering_one_byte_of_a_stored_file_fails_verify_naming_it(store_env, conn):
    from test_evidence_store import tamper

    crawl_env = store_env
    crawl("demo_tz", crawl_env)
    store = store_of(crawl_env)
    sha = evidence_rows(conn, "warc")[0][2]
    data = bytearray(store.get(sha))
    data[len(data) // 2] ^= 0x01
    tamper(store, sha, bytes(data))
    result = verify(crawl_env)
    assert result.returncode == 1
    assert f"ALTERED  {store.location(sha)}" in result.stdout
    assert result.stdout.count("ALTERED") == 1
    assert store.delete(sha)
    result = verify(crawl_env)
    assert result.returncode == 1 and f"MISSING  {store.location(sha)}" in result.stdout


# One of demo_cm's searches (6 candidates): each candidate's screenshot is a Chromium page load, and what is
# proven (real PNGs, a timeout recorded) does not grow with the site's 23.
ONE_SEARCH = "ivoire"


def _with_screenshots(tmp_path, monkeypatch, site="demo_cm"):
    folder = tmp_path / "sites"
    folder.mkdir(exist_ok=True)
    for p in (ROOT / "sites").glob("*.yaml"):
        doc = yaml.safe_load(p.read_text())
        if p.stem == site:
            doc["evidence"] = {"screenshot_static": True}
        (folder / p.name).write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))


@pytest.mark.browser
def test_screenshots_of_candidates_are_real_pngs(crawl_env, conn, tmp_path, monkeypatch):
    _with_screenshots(tmp_path, monkeypatch)
    import os
    crawl("demo_cm", dict(os.environ), "-a", f"queries={ONE_SEARCH}")
    shots = evidence_rows(conn, "screenshot")
    assert shots and all(r[4] is None for r in shots), shots[:3]
    assert len(shots) == len(evidence_rows(conn, "warc"))
    store = LocalEvidenceStore(Path(crawl_env["WILDWATCH_VAR_DIR"]) / "evidence")
    png = store.get(shots[0][2])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000


@pytest.mark.browser
def test_pages_rendered_in_the_browser_are_screenshotted(crawl_env, conn, tmp_path, monkeypatch):
    # demo_cn's results exist only after its script ran; without detail pages the evidence is that page.
    folder = tmp_path / "sites"
    folder.mkdir()
    doc = yaml.safe_load((ROOT / "sites" / "demo_cn.yaml").read_text())
    doc.pop("detail")
    doc["checks"] = []
    (folder / "demo_cn.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    import os
    crawl("demo_cn", dict(os.environ), "-a", "queries=象牙")
    shots = evidence_rows(conn, "screenshot")
    assert shots and all(r[4] is None for r in shots)
    store = LocalEvidenceStore(Path(crawl_env["WILDWATCH_VAR_DIR"]) / "evidence")
    _, _, body = warc.read_response(store.get(evidence_rows(conn, "warc")[0][2]))
    assert "象牙" in body.decode("utf-8") and "<li" in body.decode("utf-8"), "the WARC holds the rendered DOM"


@pytest.mark.browser
def test_a_screenshot_that_times_out_is_recorded_and_the_listing_stays_queued(crawl_env, conn, tmp_path,
                                                                             monkeypatch):
    _with_screenshots(tmp_path, monkeypatch)
    monkeypatch.setenv("WILDWATCH_SCREENSHOT_TIMEOUT", "0.001")
    import os
    crawl("demo_cm", dict(os.environ), "-a", f"queries={ONE_SEARCH}")
    shots = evidence_rows(conn, "screenshot")
    assert shots and all(r[4] == "screenshot timed out after 0.001 s" for r in shots)
    assert len(shots) == count(conn, "review_queue")
    result = verify(dict(os.environ))
    assert result.returncode == 0 and "NOT CAPTURED" in result.stdout and "timed out" in result.stdout


def test_a_page_over_the_cap_and_an_unwritable_store_are_recorded_not_fatal(crawl_env, conn, tmp_path,
                                                                            monkeypatch):
    import os
    monkeypatch.setenv("WILDWATCH_EVIDENCE_MAX_BYTES", "500")
    crawl("demo_tz", dict(os.environ))
    rows = evidence_rows(conn, "warc")
    assert rows and all(r[2] is None and r[4].startswith("page too big to archive") for r in rows)
    queued = count(conn, "review_queue")
    assert len(rows) == queued

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store should be")
    monkeypatch.setenv("WILDWATCH_EVIDENCE_DIR", str(blocker))
    monkeypatch.delenv("WILDWATCH_EVIDENCE_MAX_BYTES")
    crawl("demo_tz", dict(os.environ))
    rows = evidence_rows(conn, "warc")
    assert count(conn, "review_queue") == queued, "the listings are still stored and queued"
    latest = [r for r in rows if r[7] == latest_run(conn)]
    assert latest and all(r[4].startswith(f"evidence store {blocker} refused the file") for r in latest), latest[:2]


def test_evidence_is_off_when_switched_off(crawl_env, conn, monkeypatch):
    import os
    monkeypatch.setenv("WILDWATCH_EVIDENCE", "off")
    crawl("demo_tz", dict(os.environ))
    assert count(conn, "review_queue") > 0 and count(conn, "evidence") == 0
