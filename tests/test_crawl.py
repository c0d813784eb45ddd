"""Real Scrapy crawls of the demo marketplaces (the Chinese one through Chromium) into a real database."""
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import scratch_dirs
import yaml

from helpers import free_port
from wildwatch import config, keywords, runs, sites
from wildwatch.demo import generator

ROOT = Path(__file__).resolve().parent.parent


def crawl(site: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", f"site={site}", *args],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    # Scrapy itself logs tracebacks for failed robots.txt fetches; ours must never raise.
    ours = [f'File "{ROOT}/{d}/' for d in ("spiders", "pipelines", "wildwatch")]
    assert not any(o in result.stderr for o in ours), result.stderr[-3000:]
    return result


def expected(site_name: str) -> dict:
    kb = keywords.load(config.load().keywords_dir)
    site = sites.load(site_name, ROOT / "sites")
    return generator.expected_crawl(generator.load_ground_truth()[site_name],
                                    [t.term for t in kb.search_queries(site.languages)])


def latest_run(conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM crawl_runs")
        return cur.fetchone()[0]


def seen_ids(conn, run_id: int, queued_only=False) -> set[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT l.url FROM sightings s JOIN listings l ON l.id = s.listing_id "
                    "WHERE s.run_id = %s AND (s.queued OR NOT %s)", (run_id, queued_only))
        return {generator.listing_id_from_url(u) for (u,) in cur.fetchall()}


def wait_for_registration(url: str, stop: threading.Event | None = None, timeout_s: float = 60) -> bool:
    """Wait until a crawl has recorded itself in site_crawls."""
    import psycopg2

    stop = stop or threading.Event()
    deadline = time.monotonic() + timeout_s
    while not stop.is_set() and time.monotonic() < deadline:
        probe = psycopg2.connect(url)
        with probe.cursor() as cur:
            cur.execute("SELECT count(*) FROM site_crawls")
            registered = cur.fetchone()[0]
        probe.close()
        if registered:
            return True
        stop.wait(0.05)
    return False


def count(conn, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


@pytest.mark.parametrize("site", ["demo_vn", "demo_cm", "demo_tz", "demo_rao", "demo_forum",
                                  pytest.param("demo_cn", marks=pytest.mark.browser)])
def test_a_crawl_fetches_every_page_and_queues_every_wildlife_offer(site, crawl_env, conn):
    crawl(site, crawl_env)
    run_id = latest_run(conn)
    record = runs.site_crawl(conn, run_id, site)
    want = expected(site)
    assert record["status"] == "succeeded", record
    assert record["pages_fetched"] == want["pages"]
    assert record["listings_seen"] == want["listings"]
    assert seen_ids(conn, run_id) == set(want["listing_ids"])
    assert set(want["should_queue"]) <= seen_ids(conn, run_id, queued_only=True)
    with conn.cursor() as cur:
        # a forum thread states no price
        cur.execute("SELECT count(*) FROM listings WHERE (price IS NULL AND %s) OR seller IS NULL OR posted_at IS NULL "
                    "OR description IS NULL OR cardinality(image_urls) = 0 OR seller_account IS NULL",
                    (sites.load(site).kind != "forum",))
        assert cur.fetchone()[0] == 0, "every demo listing has every field"
        cur.execute("SELECT count(*) FROM keyword_matches m JOIN listings l ON l.id = m.listing_id "
                    "WHERE substr(CASE m.field WHEN 'title' THEN l.title ELSE l.description END, "
                    "m.span_start + 1, m.span_end - m.span_start) <> m.matched_text")
        assert cur.fetchone()[0] == 0, "match spans point at the matched text"


def test_a_second_run_adds_sightings_not_listings(crawl_env, conn):
    crawl("demo_vn", crawl_env)
    listings, queue, sightings = count(conn, "listings"), count(conn, "review_queue"), count(conn, "sightings")
    crawl("demo_vn", crawl_env)
    assert count(conn, "listings") == listings
    assert count(conn, "review_queue") == queue
    assert count(conn, "sightings") == 2 * sightings
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM listings WHERE first_run_id <> last_run_id")
        assert cur.fetchone()[0] == listings


def test_the_same_run_crawled_twice_changes_nothing(crawl_env, conn):
    crawl("demo_tz", crawl_env)
    run_id = latest_run(conn)
    before = [count(conn, t) for t in ("listings", "sightings", "review_queue", "keyword_matches")]
    crawl("demo_tz", crawl_env, "-a", f"run_id={run_id}")
    assert [count(conn, t) for t in ("listings", "sightings", "review_queue", "keyword_matches")] == before


def _site_variant(tmp_path: Path, monkeypatch, change, site: str = "demo_vn") -> None:
    """A sites folder holding `site` as change(doc) leaves it (a moved site, a redesign)."""
    folder = tmp_path / "sites"
    folder.mkdir(exist_ok=True)
    doc = yaml.safe_load((ROOT / "sites" / f"{site}.yaml").read_text())
    change(doc)
    (folder / f"{site}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    monkeypatch.setenv("WILDWATCH_SITES_DIR", str(folder))


def test_a_site_that_is_down_is_recorded_as_failed_and_stored_listings_stay(crawl_env, conn, tmp_path,
                                                                             monkeypatch):
    crawl("demo_vn", crawl_env, "-a", "queries=ngà voi")
    stored = count(conn, "listings")
    assert stored > 0
    monkeypatch.setenv("WILDWATCH_BASE_URL__DEMO_VN", f"http://127.0.0.1:{free_port()}")
    dead = crawl("demo_vn", dict(os.environ), "-a", "queries=ngà voi,sừng tê giác,vảy tê tê,cao hổ,mật gấu")
    record = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert record["status"] == "failed" and "Connection refused" in record["reason"], record
    assert count(conn, "listings") == stored
    # its log: a few failures as examples and the one reason, no tracebacks, no line per retry
    assert "Traceback" not in dead.stderr and "Gave up retrying" not in dead.stderr
    assert dead.stderr.count("request failed:") <= 3 and "counted on the run, not logged" in dead.stderr
    assert "demo_vn: failed" in dead.stderr


class _Always500(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(b"<h1>Internal Server Error</h1>")

    def log_message(self, *args):
        pass


def test_a_site_answering_500_is_recorded_with_the_reason(crawl_env, conn, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("WILDWATCH_BASE_URL__DEMO_VN", f"http://127.0.0.1:{server.server_address[1]}")
        crawl("demo_vn", dict(os.environ), "-a", "queries=ngà voi,tê tê")
    finally:
        server.shutdown()
    record = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert record["status"] == "failed" and "HTTP 500 x2" in record["reason"], record


def test_a_redesigned_site_is_recorded_as_a_layout_failure(crawl_env, conn, tmp_path, monkeypatch):
    _site_variant(tmp_path, monkeypatch, lambda doc: doc["search"].update(results="ul#results > li.product"))
    crawl("demo_vn", dict(os.environ), "-a", "queries=ngà voi,tê tê")
    record = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert record["status"] == "failed", record
    assert re.search(r"selectors matched nothing on (\d+) of \1 search pages", record["reason"]), record


def test_robots_txt_is_obeyed(crawl_env, conn, tmp_path, monkeypatch):
    # /account/ is disallowed in the demo's robots.txt
    _site_variant(tmp_path, monkeypatch, lambda doc: doc["search"].update(url="{base_url}/account/search?q={query}"))
    crawl("demo_vn", dict(os.environ), "-a", "queries=ngà voi")
    record = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert record["pages_fetched"] == 0 and record["status"] == "failed"
    # obeying robots.txt is not an error of the site's: it is counted and said as what it is
    assert record["errors"] == 0 and record["reason"] == "no page fetched: robots.txt refused 1 requests (obeyed)"
    with conn.cursor() as cur:
        cur.execute("SELECT stats->>'robots_forbidden', stats->'error_reasons' FROM site_crawls ORDER BY id DESC LIMIT 1")
        assert cur.fetchone() == ("1", {})


def test_a_database_that_keeps_dropping_connections_loses_nothing(crawl_env, conn, database_url, pg_cluster):
    """Kill the crawl's database sessions again and again while it runs: what the pipelines cannot
    store goes to the spool, and replaying the spool leaves the same listings as an undisturbed crawl."""
    import psycopg2

    dbname = database_url.rsplit("/", 1)[1]
    stop = threading.Event()

    def keep_killing():
        killer = psycopg2.connect(pg_cluster.url("postgres"))
        killer.autocommit = True
        with killer.cursor() as cur:
            # From the moment the crawl has registered itself (a flapping server, not one never up).
            wait_for_registration(database_url, stop)
            while not stop.is_set():
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = %s AND application_name = 'wildwatch' AND pid <> pg_backend_pid()",
                            (dbname,))
                stop.wait(0.1)
        killer.close()

    thread = threading.Thread(target=keep_killing)
    thread.start()
    try:
        result = crawl("demo_tz", crawl_env)
    finally:
        stop.set()
        thread.join()
    assert "database connection lost" in result.stderr, "the test did not disturb the crawl"
    print(result.stderr.count("database connection lost"), "lost connections;",
          [ln for ln in result.stderr.splitlines() if "wildwatch/spooled" in ln])
    spool_dir = Path(crawl_env["WILDWATCH_VAR_DIR"]) / "spool"
    replay = subprocess.run([sys.executable, "-m", "wildwatch.cli", "db", "replay-spool"], env=crawl_env,
                            capture_output=True, text=True, check=True)
    assert "replayed" in replay.stdout
    assert not list(spool_dir.glob("*.jsonl"))
    want = expected("demo_tz")
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM crawl_runs")
        run_id = cur.fetchone()[0]
    assert seen_ids(conn, run_id) == set(want["listing_ids"])
    assert set(want["should_queue"]) <= seen_ids(conn, run_id, queued_only=True)


def test_a_database_that_goes_away_mid_crawl_loses_nothing(crawl_env, tmp_path):
    """The server stops while the crawl runs: listings go to the spool; once it is back, replaying
    the spool stores and queues all of them."""

    import psycopg2

    from wildwatch import db
    from wildwatch.localpg import LocalCluster

    home = scratch_dirs.make("away")
    cluster = LocalCluster(home / "pg", free_port(), fsync=False)
    cluster.start()
    try:
        url = cluster.url("wildwatch")
        c = psycopg2.connect(url)
        db.migrate(c)
        c.close()
        env = {**crawl_env, "WILDWATCH_DATABASE_URL": url, "WILDWATCH_BASE_URL__DEMO_TZ": crawl_env[
            "WILDWATCH_BASE_URL__DEMO_TZ"]}
        proc = subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_tz"],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if not wait_for_registration(url):  # stop the server as soon as the crawl has registered itself
            pytest.fail("the crawl never registered")
        cluster.stop()
        output = proc.communicate(timeout=300)[0]
        assert "listings spooled" in output or "could not record" in output, output[-3000:]
        spooled = list((Path(crawl_env["WILDWATCH_VAR_DIR"]) / "spool").glob("*.jsonl"))
        assert spooled, output[-3000:]
        cluster.start()
        subprocess.run([sys.executable, "-m", "wildwatch.cli", "db", "replay-spool"], env=env, check=True,
                       capture_output=True)
        want = expected("demo_tz")
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT max(id) FROM crawl_runs")
                run_id = cur.fetchone()[0]
            assert seen_ids(conn, run_id) == set(want["listing_ids"])
            assert set(want["should_queue"]) <= seen_ids(conn, run_id, queued_only=True)
        finally:
            conn.close()
    finally:
        scratch_dirs.remove(home)  # stops the server too


def test_a_field_that_empties_after_a_redesign_is_reported_against_the_previous_run(crawl_env, conn, tmp_path,
                                                                                    monkeypatch):
    crawl("demo_vn", crawl_env)
    first = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert first["status"] == "succeeded"

    def move_price_and_seller(doc):
        doc["search"]["fields"]["price"] = "b.price-moved::text"
        doc["detail"]["fields"].update(price="div.price-moved::text", seller="div.seller-moved::text")

    _site_variant(tmp_path, monkeypatch, move_price_and_seller)
    crawl("demo_vn", dict(os.environ))
    second = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert second["status"] == "failed", second
    assert "price coverage fell from 100% to 0%" in second["reason"]
    assert "seller coverage fell from 100% to 0%" in second["reason"]


def test_a_site_returning_far_fewer_listings_is_reported(crawl_env, conn, tmp_path, monkeypatch):
    crawl("demo_tz", crawl_env)
    _site_variant(tmp_path, monkeypatch, site="demo_tz",  # most results vanish
                  change=lambda doc: doc["search"].update(results="div.ad-list > div.ad-card[data-id$='1']"))
    crawl("demo_tz", dict(os.environ))
    record = runs.site_crawl(conn, latest_run(conn), "demo_tz")
    assert record["status"] == "failed" and f"listings fell from {expected('demo_tz')['listings']} to" in record["reason"], record


def test_retry_after_is_honoured_on_429(crawl_env, conn, demo_sites, monkeypatch):
    """Every page answers 429 "Retry-After: 1" once, then the real page: the crawl waits and gets it all."""
    import urllib.request

    upstream = demo_sites["demo_vn"]
    seen: set[str] = set()

    class Once429(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/robots.txt" and self.path not in seen:
                seen.add(self.path)
                self.send_response(429)
                self.send_header("Retry-After", "1")
                self.end_headers()
                return
            with urllib.request.urlopen(upstream + self.path) as resp:
                body, ctype = resp.read(), resp.headers["Content-Type"]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Once429)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("WILDWATCH_BASE_URL__DEMO_VN", f"http://127.0.0.1:{server.server_address[1]}")
        started = time.monotonic()
        result = crawl("demo_vn", dict(os.environ), "-a", "queries=tê tê")
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
    record = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    kb_free = generator.expected_crawl(generator.load_ground_truth()["demo_vn"], ["tê tê"])
    assert record["status"] == "succeeded", record
    assert record["pages_fetched"] == kb_free["pages"]
    assert "as Retry-After asks" in result.stderr and elapsed >= 2


def test_a_killed_crawl_resumes_from_its_jobdir_without_losing_or_duplicating(crawl_env, conn, tmp_path):
    import signal

    with conn.cursor() as cur:
        cur.execute("INSERT INTO crawl_runs (run_key, kind, period) VALUES ('resume', 'adhoc', '2026-11-01') RETURNING id")
        run_id = cur.fetchone()[0]
    conn.commit()
    jobdir = tmp_path / "job"
    cmd = [sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_tz", "-a", f"run_id={run_id}",
           "-s", f"JOBDIR={jobdir}"]
    # slowed down to be stopped mid-way; the resumed crawl goes at the site's own pace
    slow = ["-s", "DOWNLOAD_DELAY=0.15", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    proc = subprocess.Popen(cmd + slow, cwd=ROOT, env=crawl_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and count(conn, "sightings") < 5:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)  # as a worker being stopped would
    out = proc.communicate(timeout=120)[0]
    partial = count(conn, "sightings")
    assert "shutdown" in out.lower() and 0 < partial < 22, out[-2000:]
    resumed = subprocess.run(cmd, cwd=ROOT, env=crawl_env, capture_output=True, text=True, timeout=300)
    assert "Resuming crawl" in resumed.stderr, resumed.stderr[-2000:]
    want = expected("demo_tz")
    assert seen_ids(conn, run_id) == set(want["listing_ids"])
    assert count(conn, "sightings") == len(want["listing_ids"])  # one per listing: nothing twice


@pytest.mark.browser
def test_the_browser_restarts_every_n_pages_and_loses_nothing(crawl_env, conn):
    # Six searches (their 7 result pages are rendered in Chromium, the listings' pages are not; 28 of the site's
    # 60 pages): restarts with pages in flight, each a new Chromium, not 17 of them over the whole site.
    queries = ["象牙", "穿山甲", "犀角", "玳瑁", "熊胆", "虎骨"]
    result = crawl("demo_cn", crawl_env, "-a", f"queries={','.join(queries)}",
                   "-s", "WILDWATCH_BROWSER_RESTART_EVERY=2")
    restarts = re.search(r"'wildwatch/browser_restarts': (\d+)", result.stderr)
    assert restarts and int(restarts.group(1)) >= 3, result.stderr[-3000:]
    run_id = latest_run(conn)
    record = runs.site_crawl(conn, run_id, "demo_cn")
    want = generator.expected_crawl(generator.load_ground_truth()["demo_cn"], queries)
    assert record["pages_fetched"] == want["pages"], record
    assert record["status"] == "succeeded", record
    assert record["listings_seen"] == want["listings"]
    assert seen_ids(conn, run_id) == set(want["listing_ids"])


def test_responses_over_the_size_cap_are_refused_with_the_reason_recorded(crawl_env, conn):
    # Demo search pages with results are about 1.5 kB: a 1 kB cap refuses them (as 8 MB refuses a hostile page),
    # while smaller pages (item pages, short result lists) still go through.
    result = crawl("demo_vn", crawl_env, "-s", "DOWNLOAD_MAXSIZE=1000", "-s", "DOWNLOAD_WARNSIZE=500")
    assert "larger than download max size (1000)" in result.stderr
    with conn.cursor() as cur:
        cur.execute("SELECT stats->'error_reasons', errors FROM site_crawls WHERE run_id = %s", (latest_run(conn),))
        reasons, errors = cur.fetchone()
    refused = {k: v for k, v in reasons.items() if "max size" in k or "maxsize" in k.lower()}
    assert refused and errors >= sum(refused.values()) > 0, reasons


def test_a_site_that_finds_nothing_for_every_search_term_is_unhealthy(crawl_env, conn):
    crawl("demo_vn", crawl_env, "-a", "queries=zzqx,qqzx")
    record = runs.site_crawl(conn, latest_run(conn), "demo_vn")
    assert record["status"] == "failed" and record["reason"] == "found nothing for any of its 2 search terms", record


def test_a_redesign_between_two_monthly_runs_fails_the_task_with_the_reason_and_keeps_last_months_listings(
        crawl_env, conn, tmp_path, monkeypatch):
    import datetime as dt

    from wildwatch import survey

    def target(key, month):
        with conn:
            run_id = runs.ensure_run(conn, key, "monthly", month)
        return {"site": "demo_vn", "country": "VN", "run_id": run_id, "groups": [], "shard": 0, "shards": 1}

    survey.crawl_shard(target("redesign-1", dt.date(2026, 10, 1)))  # the Airflow task's body
    with conn.cursor() as cur:
        cur.execute("SELECT url, title, price, status FROM listings ORDER BY url")
        before = cur.fetchall()
    assert before and all(row[3] == "active" for row in before)

    _site_variant(tmp_path, monkeypatch, lambda doc: doc["search"].update(results="ul#results-v2 > li.card"))
    with pytest.raises(survey.CrawlFailed, match="selectors matched nothing on .* search pages"):
        survey.crawl_shard(target("redesign-2", dt.date(2026, 11, 1)))
    with conn.cursor() as cur:
        cur.execute("SELECT url, title, price, status FROM listings ORDER BY url")
        assert cur.fetchall() == before, "last month's listings are intact and not taken for gone"


def test_a_crawl_started_by_hand_closes_its_run_and_a_restricted_one_is_judged_only_against_its_like(crawl_env,
                                                                                                    conn):
    crawl("demo_tz", crawl_env)
    with conn.cursor() as cur:
        cur.execute("SELECT kind, status, finished_at IS NOT NULL FROM crawl_runs ORDER BY id")
        assert cur.fetchall() == [("manual", "succeeded", True)]  # not "running" forever
    narrow = crawl("demo_tz", crawl_env, "-a", "queries=pembe za ndovu")
    record = runs.site_crawl(conn, latest_run(conn), "demo_tz")
    assert record["status"] == "succeeded" and record["listings_seen"] < 22, record  # not "fell from 22 to 3"
    assert re.search(r"demo_tz: succeeded, \d+ pages", narrow.stderr)  # the console says what the run records
    with conn.cursor() as cur:
        cur.execute("SELECT status FROM crawl_runs ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["succeeded", "succeeded"]
        cur.execute("SELECT count(*) FROM listings WHERE status = 'gone'")
        assert cur.fetchone()[0] == 0  # a narrow crawl never marks the others gone


def test_shards_started_by_hand_share_a_run_that_closes_when_the_last_one_ends(crawl_env, conn):
    refused = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_tz",
                              "-a", "shard=0", "-a", "shards=2"], cwd=ROOT, env=crawl_env, capture_output=True,
                             text=True, timeout=300)
    assert refused.returncode != 0 and "`wildwatch runs new` prints one" in refused.stderr
    made = subprocess.run([sys.executable, "-m", "wildwatch.cli", "runs", "new"], cwd=ROOT, env=crawl_env,
                          capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    run_id = int(made.stdout.split()[0])
    crawl("demo_tz", crawl_env, "-a", f"run_id={run_id}", "-a", "shard=0", "-a", "shards=2")
    with conn.cursor() as cur:
        cur.execute("SELECT status FROM crawl_runs WHERE id = %s", (run_id,))
        assert cur.fetchone()[0] == "running"  # one shard of two: not done
    conn.commit()
    crawl("demo_tz", crawl_env, "-a", f"run_id={run_id}", "-a", "shard=1", "-a", "shards=2")
    with conn.cursor() as cur:
        cur.execute("SELECT kind, status, finished_at IS NOT NULL FROM crawl_runs WHERE id = %s", (run_id,))
        assert cur.fetchone() == ("manual", "succeeded", True)
    assert runs.site_crawl(conn, run_id, "demo_tz")["listings_seen"] == expected("demo_tz")["listings"]
