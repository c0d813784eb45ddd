"""The DAGs: they import cleanly without touching the database, and run a whole survey end to end."""
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import free_port, settings_for
from wildwatch import config, keywords, sites
from wildwatch.airflow_env import airflow_env
from wildwatch.demo import generator
from wildwatch.ranker import audit

ROOT = Path(__file__).resolve().parent.parent
SURVEY_DAGS = {"wildwatch_monthly_survey", "wildwatch_survey"}
DAG_IDS = SURVEY_DAGS | {"wildwatch_referrals", "wildwatch_takedown_followup", "wildwatch_ranker", "wildwatch_backup"}


def test_every_dag_file_imports_without_errors_and_without_a_database(tmp_path):
    # A database URL nobody answers on: a DAG file that connects at import time fails here.
    env = {**os.environ, "WILDWATCH_DATABASE_URL": f"postgresql://x:y@127.0.0.1:{free_port()}/none",
           "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags")}
    code = """
import json
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=%r)
out = {"errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction
    served = DagSerialization.from_dict(DagSerialization.to_dict(dag))  # as the scheduler reads it
    first = served.timetable.next_dagrun_info(last_automated_data_interval=None, restriction=TimeRestriction(
        earliest=served.start_date, latest=None, catchup=dag.catchup)) if served.timetable.can_be_scheduled else None
    info = {"tags": sorted(dag.tags), "catchup": dag.catchup, "schedule": served.timetable.summary,
            "first_run": first.run_after.isoformat() if first else None, "files": dag.fileloc,
            "params": sorted(dag.params.keys()), "tasks": sorted(dag.task_ids)}
    crawls = [t for t in dag.tasks if t.task_id.endswith(".crawl")]
    if crawls:
        info["crawls"] = {t.task_id: {"pool": t.pool, "template": t.map_index_template,
                                      "upstream": sorted(t.upstream_task_ids)} for t in crawls}
        info["summary_rule"] = getattr(dag.get_task("summarize").trigger_rule, "value", None)
        info["summary_upstream"] = sorted(dag.get_task("summarize").upstream_task_ids)
    out["dags"][dag_id] = info
print("RESULT" + json.dumps(out))
""" % str(ROOT / "dags")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("RESULT")]
    assert line, result.stderr[-2000:]
    out = json.loads(line[0][6:])
    assert out["errors"] == {}
    assert set(out["dags"]) == DAG_IDS
    monthly, adhoc = out["dags"]["wildwatch_monthly_survey"], out["dags"]["wildwatch_survey"]
    assert monthly["schedule"] == "0 0 1 * *" and monthly["catchup"] is False
    # switched on mid-month (the UI's "unpause on trigger" too), it starts no run for the month already begun
    assert monthly["first_run"] > dt.datetime.now(dt.timezone.utc).isoformat(), monthly["first_run"]
    assert adhoc["schedule"] == "None" and adhoc["params"] == ["countries", "product_groups", "sites"]
    for dag_id, dag in out["dags"].items():
        assert "wildwatch" in dag["tags"] and dag["catchup"] is False
        if dag_id in SURVEY_DAGS:
            # One crawl task per site, in the site's pool, mapped over shards labelled in the UI: every site file
            # in a one-off survey (it may name any), the enabled ones in the monthly survey.
            names = sites.switched_on() if dag_id == "wildwatch_monthly_survey" else sites.site_files()
            assert dag["crawls"] == {f"{name}.crawl": {"pool": f"site_{name}", "template": "{{ shard_label }}",
                                                       "upstream": [f"{name}.plan"]}
                                     for name in names}
            assert dag["summary_rule"] == "all_done" and set(dag["crawls"]) <= set(dag["summary_upstream"])
    referrals = out["dags"]["wildwatch_referrals"]
    assert "supervisor_approval" in referrals["tasks"] and referrals["params"] == ["month"]
    assert out["dags"]["wildwatch_takedown_followup"]["schedule"] == "0 0 * * 0"  # @weekly
    assert out["dags"]["wildwatch_ranker"]["tasks"] == ["champion_challenger"]
    assert out["dags"]["wildwatch_backup"]["tasks"] == ["back_up"]
    assert out["dags"]["wildwatch_backup"]["schedule"] == "30 2 * * *"
    for path in (ROOT / "dags").glob("*.py"):
        assert len(path.read_text().splitlines()) < 40, f"{path.name}: keep DAG files thin"


def run_dag(dag_id: str, airflow_metadata: dict, conf: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **airflow_metadata}
    env.update(airflow_env(settings_for(env)))
    cmd = [str(Path(sys.executable).parent / "airflow"), "dags", "test", dag_id]
    if conf is not None:
        cmd += ["-c", json.dumps(conf)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)


def site_rows(conn) -> tuple[str, dict]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, status, kind FROM crawl_runs ORDER BY id DESC LIMIT 1")
        run_id, status, kind = cur.fetchone()
        cur.execute("""SELECT s.name, sc.status, sc.reason, sc.pages_fetched, sc.listings_seen
                       FROM site_crawls sc JOIN sites s ON s.id = sc.site_id WHERE sc.run_id = %s""", (run_id,))
        return status, kind, {r[0]: r[1:] for r in cur.fetchall()}


def check_monthly_survey(conn) -> None:
    """What a monthly DAG run over the demo's month 1 must have done, from its database alone. Run by
    tests/test_walkthrough.py after `wildwatch demo` (the monthly DAG, end to end), not twice."""
    status, kind, rows = site_rows(conn)
    assert (status, kind) == ("succeeded", "monthly")
    kb = keywords.load(config.load().keywords_dir)
    demo = generator.load_ground_truth()
    assert set(rows) == set(demo)
    for name, (site_status, reason, pages, listings) in rows.items():
        want = generator.expected_crawl(demo[name], [t.term for t in kb.search_queries(sites.load(name).languages)])
        assert (site_status, pages, listings) == ("succeeded", want["pages"], want["listings"]), (name, reason)
    with conn.cursor() as cur:  # the blind audit sample of what was not queued, drawn by its own task
        cur.execute("""SELECT a.population, a.sampled, (SELECT count(*) FROM review_queue WHERE reason = 'audit')
                       FROM audit_samples a JOIN crawl_runs r ON r.id = a.run_id""")
        population, sampled, queued = cur.fetchone()
    assert population > 0 and sampled == queued == 1  # 2% of the demo's unqueued listings, rounded up
    # The sampled item was captured like a queued one (its WARC and photos kept by the crawl): it looks the same.
    with conn.cursor() as cur:
        cur.execute("""SELECT count(e.id), count(DISTINCT p.id) FROM review_queue q
                       LEFT JOIN evidence e ON e.listing_id = q.listing_id AND e.sha256 IS NOT NULL
                       LEFT JOIN listing_photos p ON p.listing_id = q.listing_id AND p.sha256 IS NOT NULL
                       WHERE q.reason = 'audit'""")
        warcs, photos_kept = cur.fetchone()
        cur.execute("SELECT id FROM crawl_runs ORDER BY id DESC LIMIT 1")
        survey_run = cur.fetchone()[0]
        # kept by the crawl for the listings the draw may take, or when drawn (wildwatch/evidence/late.py)
        cur.execute("""SELECT s.name, l.url, l.image_urls <> '{}',
                              EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = l.id AND q.reason = 'audit')
                       FROM listings l JOIN sites s ON s.id = l.site_id
                       WHERE NOT EXISTS (SELECT 1 FROM review_queue q WHERE q.listing_id = l.id AND q.reason <> 'audit')""")
        share = config.load().audit_share
        eligible = {f"{n}/{generator.listing_id_from_url(u)}": has for n, u, has, drawn in cur.fetchall()
                    if drawn or audit.eligible(survey_run, u, share)}
    assert warcs >= 1 and photos_kept >= 1
    # The candidates' photos were read: contacts painted on them (the demo plants three) are contacts
    with conn.cursor() as cur:
        cur.execute("""SELECT q.id IS NOT NULL, count(*) FILTER (WHERE p.ocr_at IS NOT NULL), count(*),
                              array_agg(DISTINCT c.value) FILTER (WHERE c.field = 'photo_text')
                       FROM listing_photos p LEFT JOIN listing_contacts c ON c.listing_id = p.listing_id
                       LEFT JOIN review_queue q ON q.listing_id = p.listing_id
                       WHERE p.sha256 IS NOT NULL GROUP BY 1 ORDER BY 1 DESC""")
        (_, read, kept, painted_contacts), *others = cur.fetchall()
    assert read == kept and set(painted_contacts or []) >= {"laozhang_888", "+84912345678", "+255712345678"}, \
        (read, kept, painted_contacts)
    assert all(unqueued_read == 0 for _, unqueued_read, _, _ in others)  # only candidates' photos are read
    # Seller networks, linked by the survey's own task, equal the ones planted in the demo (decoys unlinked)
    crawled = {f"{name}/{i}" for name in demo for i in generator.expected_crawl(
        demo[name], [t.term for t in kb.search_queries(sites.load(name).languages)])["listing_ids"]}
    planted = [set(g) & crawled for g in generator.networks([x for s in demo.values() for x in s.listings])]
    with conn.cursor() as cur:
        cur.execute("""SELECT array_agg(s.name), array_agg(l.url) FROM network_members m
                       JOIN listings l ON l.id = m.listing_id JOIN sites s ON s.id = l.site_id GROUP BY m.network_id""")
        found = [{f"{n}/{generator.listing_id_from_url(u)}" for n, u in zip(*r, strict=True)} for r in cur.fetchall()]
    assert sorted(map(sorted, found)) == sorted(sorted(g) for g in planted if len(g) > 1)
    # Photos of every queued listing kept (both of each); a photo re-used by listings no contact or account
    # links is a possible link only (the demo's two "Carved ivory bangle" posts)
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*) FILTER (WHERE p.sha256 IS NULL), count(*), count(DISTINCT p.listing_id),
                              (SELECT count(*) FROM review_queue WHERE reason <> 'audit')
                       FROM listing_photos p""")
        refused, kept_or_not, with_photos, queued_now = cur.fetchone()
        cur.execute("""SELECT sa.name, a.url, sb.name, b.url
                       FROM photo_links pl JOIN listings a ON a.id = pl.listing_a JOIN sites sa ON sa.id = a.site_id
                       JOIN listings b ON b.id = pl.listing_b JOIN sites sb ON sb.id = b.site_id""")
        photo_pairs = {frozenset((f"{na}/{generator.listing_id_from_url(ua)}", f"{nb}/{generator.listing_id_from_url(ub)}"))
                       for na, ua, nb, ub in cur.fetchall()}
    assert refused == 0 and kept_or_not == 2 * with_photos
    assert with_photos == queued_now + sum(eligible.values())  # and those the audit may draw or drew
    listings = {f"{x.site}/{x.id}": x for s in demo.values() for x in s.listings}
    network_of = {m: i for i, g in enumerate(planted) for m in g}
    queued_ids = {k for k, x in listings.items() if k in crawled and x.should_queue} | set(eligible)
    want_pairs = {frozenset((a, b)) for a, b in itertools.combinations(sorted(queued_ids), 2)
                  if listings[a].photo and listings[a].photo == listings[b].photo
                  and (network_of.get(a) is None or network_of.get(a) != network_of.get(b))}
    assert photo_pairs == want_pairs and want_pairs


@pytest.mark.airflow
def test_a_one_off_country_survey_crawls_only_that_country(crawl_env, conn, airflow_metadata):
    result = run_dag("wildwatch_survey", airflow_metadata, {"countries": ["VN"], "product_groups": ["ivory"]})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    status, kind, rows = site_rows(conn)
    assert (status, kind, set(rows)) == ("succeeded", "adhoc", {"demo_vn", "demo_rao"})
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT search_query FROM sightings")
        queries = {q for (q,) in cur.fetchall()}
    kb = keywords.load(config.load().keywords_dir)
    assert queries <= {t.term for t in kb.search_queries(["vi"], ["ivory"])}
    jobs = Path(crawl_env["WILDWATCH_VAR_DIR"]) / "jobs"
    assert not jobs.exists() or not any(jobs.iterdir()), "a finished crawl leaves no job state to 'resume'"


class SmtpSink:
    """A minimal SMTP server on 127.0.0.1 that keeps what it is sent (the alert e-mails)."""

    def __init__(self):
        import socketserver
        import threading

        self.messages: list[str] = []
        self.recipients: list[str] = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sink\r\n")
                data = None
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace")
                    if data is not None:
                        if line.rstrip("\r\n") == ".":
                            sink.messages.append("".join(data))
                            data = None
                            self.wfile.write(b"250 ok\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == "EHLO":
                        self.wfile.write(b"250 sink\r\n")
                    elif verb == "RCPT":
                        sink.recipients.append(line.strip())
                        self.wfile.write(b"250 ok\r\n")
                    elif verb == "DATA":
                        data = []
                        self.wfile.write(b"354 go\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.airflow
def test_a_failing_site_does_not_stop_the_others(crawl_env, conn, airflow_metadata, monkeypatch, tmp_path):
    monkeypatch.setenv("WILDWATCH_BASE_URL__DEMO_VN", f"http://127.0.0.1:{free_port()}")
    # ... nor does a broken site file, whose plan task fails: the run still says it is incomplete.
    folder = tmp_path / "sites"
    folder.mkdir()
    for name in ("demo_vn", "demo_cm"):
        (folder / f"{name}.yaml").write_text((ROOT / "sites" / f"{name}.yaml").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    (folder / "demo_xx.yaml").write_text("name: demo_xx\ncountry: XX\n", encoding="utf-8")
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))
    sink = SmtpSink()
    monkeypatch.setenv("WILDWATCH_ALERT_EMAIL", "ops@example.org")
    monkeypatch.setenv("AIRFLOW_CONN_WILDWATCH_SMTP", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": sink.port,
         "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10}}))
    result = run_dag("wildwatch_survey", airflow_metadata, {"sites": ["demo_vn", "demo_cm", "demo_xx"],
                                                          "product_groups": ["pangolin"]})
    assert result.returncode != 0  # the failed site's task is red in the UI
    status, kind, rows = site_rows(conn)
    assert status == "partial"
    with conn.cursor() as cur:
        cur.execute("SELECT summary FROM crawl_runs ORDER BY id DESC LIMIT 1")
        summary = {s["site"]: s for s in cur.fetchone()[0]["sites"]}
    assert summary["demo_xx"]["status"] == "failed" and "plan task failed" in summary["demo_xx"]["reason"]
    assert rows["demo_cm"][0] == "succeeded" and rows["demo_cm"][3] > 0
    assert rows["demo_vn"][0] == "failed" and "Connection refused" in rows["demo_vn"][1]
    sink.close()
    import email

    def text_of(raw: str) -> str:
        msg = email.message_from_string(raw)
        parts = [p.get_payload(decode=True) or b"" for p in msg.walk() if not p.is_multipart()]
        return msg["Subject"] + " " + b" ".join(parts).decode("utf-8", "replace")

    alerts = [text_of(m) for m in sink.messages]
    assert any("demo_vn.crawl failed" in a and "Connection refused" in a for a in alerts), alerts
    assert any("demo_xx.plan failed" in a and "'languages' is required" in a for a in alerts), alerts
    assert any("ops@example.org" in r for r in sink.recipients)


@pytest.mark.airflow
def test_airflow_db_migrate_is_skipped_only_where_this_airflow_already_migrated_this_database(airflow_metadata):
    import tempfile

    from wildwatch.airflow_env import migrate

    env = {**os.environ, **airflow_metadata}
    env.update(airflow_env(settings_for(env)))
    stamp = Path(env["AIRFLOW_HOME"]) / "migrated.json"
    stamp.unlink(missing_ok=True)

    def migrated() -> str:
        with tempfile.TemporaryFile("w+") as out:
            assert migrate(env, out) == 0
            out.seek(0)
            return out.read()

    assert migrated() and stamp.exists(), "no record: migrate runs"
    assert migrated() == "", "this database is at the revision this Airflow left: nothing to run"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("@")[0] not in stamp.read_text(), "no password kept"
    known = json.loads(stamp.read_text())
    for key in known:
        known[key][1] = "0123456789ab"  # another revision than the database holds: an upgrade or a restore
    stamp.write_text(json.dumps(known))
    assert migrated(), "the database moved: migrate runs again"
    other = {**env, "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] + "_gone"}
    with tempfile.TemporaryFile("w+") as out:
        assert migrate(other, out) != 0  # a database that is not there: airflow says so, no stamp for it
    assert len(json.loads(stamp.read_text())) == 1
