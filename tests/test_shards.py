"""Keyword shards: a site's terms split over several crawls (tasks, possibly on other workers) that together
store exactly what one crawl stores, judged and aged as one crawl once the last shard is in."""
import datetime as dt
import subprocess
import sys

import pytest
from scrapy.utils.project import get_project_settings

from test_crawl import ROOT, crawl, expected, seen_ids
from test_lifecycle import monthly_run, statuses
from wildwatch import config, keywords, pools, runs, shards, sites, survey
from wildwatch.demo import generator


@pytest.mark.parametrize("n", [0, 1, 7, 19, 43, 1000])
@pytest.mark.parametrize("k", [1, 2, 3, 8])
def test_shards_cover_every_term_once_in_near_equal_parts(n, k):
    terms = [f"t{i}" for i in range(n)]
    parts = [shards.part(terms, i, k) for i in range(k)]
    assert [t for part in parts for t in part] == terms
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    with pytest.raises(ValueError):
        shards.part(terms, k, k)


def test_shard_count_follows_the_shard_size():
    assert [shards.count(n, 10) for n in (0, 1, 10, 11, 43)] == [1, 1, 1, 2, 5]
    with pytest.raises(ValueError):
        shards.count(5, 0)


@pytest.mark.parametrize("concurrency,delay,n", [(4, 0.0, 3), (4, 2.0, 10), (4, 2.0, 2), (1, 5.0, 6), (3, 1.0, 1)])
def test_shards_running_together_are_as_polite_as_one_crawl(concurrency, delay, n):
    site = sites.Site(name="x", title="x", country="VN", languages=("vi",), currency="VND",
                      base_url="http://x.invalid", search=None, detail=None, download_delay=delay,
                      concurrency=concurrency)
    shard_delay, shard_concurrency = shards.politeness(site, n)
    together = min(concurrency, n)  # what the site's pool lets run at once
    assert together * shard_concurrency <= concurrency
    if delay:
        assert together / shard_delay == pytest.approx(1 / delay)  # requests per second, all shards together
    else:
        assert shard_delay == 0


def test_every_site_has_a_pool_sized_by_its_concurrency():
    spec = pools.spec()
    assert spec == {f"site_{s.name}": {"slots": s.concurrency, "include_deferred": False,
                                       "description": spec[f"site_{s.name}"]["description"]}
                    for s in sites.load_all()}


def test_the_plan_splits_each_surveyed_site_by_the_shard_size(monkeypatch):
    monkeypatch.setenv("WILDWATCH_SHARD_SIZE", "10")
    kb = keywords.load(config.load().keywords_dir)
    plan = survey.plan_site(7, "demo_tz")
    n = len(kb.search_queries(sites.load("demo_tz").languages))
    assert [(t["shard"], t["shards"]) for t in plan] == [(k, shards.count(n, 10)) for k in range(shards.count(n, 10))]
    assert survey.plan_site(7, "ebay") == []  # disabled: left out unless asked for by name
    ebay_terms = len(kb.search_queries(sites.load("ebay").languages))
    assert len(survey.plan_site(7, "ebay", {"sites": ["ebay"]})) == shards.count(ebay_terms, 10) > 1
    assert survey.plan_site(7, "demo_tz", {"countries": ["VN"]}) == []
    monkeypatch.setenv("WILDWATCH_SHARD_SIZE", "0")
    with pytest.raises(config.ConfigError, match="WILDWATCH_SHARD_SIZE"):
        survey.plan_site(7, "demo_tz")


def shard_args(run_id: int, k: int, n: int) -> list[str]:
    return ["-a", f"run_id={run_id}", "-a", f"shard={k}", "-a", f"shards={n}"]


def snapshot(conn, run_id: int) -> dict:
    """What a run stored: its listings and their place in the queue. Not the sighting's search term: of
    the terms that find a listing, whichever page came back first names it, in one crawl as in shards."""
    with conn.cursor() as cur:
        cur.execute("""SELECT l.url, l.title, l.price, l.seller, s.queued, q.priority, q.status
                       FROM sightings s JOIN listings l ON l.id = s.listing_id
                       LEFT JOIN review_queue q ON q.listing_id = l.id WHERE s.run_id = %s""", (run_id,))
        rows = sorted(cur.fetchall(), key=str)
        cur.execute("SELECT count(*) FROM sightings WHERE run_id = %s", (run_id,))
        return {"rows": rows, "sightings": cur.fetchone()[0]}


def test_a_site_crawled_in_shards_stores_what_one_crawl_stores_and_ages_listings_only_when_all_are_in(
        crawl_env, conn, takedowns):
    first = monthly_run(conn, "shards-1", dt.date(2026, 10, 1))
    crawl("demo_tz", crawl_env, "-a", f"run_id={first}")
    takedowns.remove("demo_tz", ["tz0001", "tz0002"])
    second = monthly_run(conn, "shards-2", dt.date(2026, 11, 1))

    # Two of three shards side by side, as two workers would run them.
    procs = [subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_tz",
                               *shard_args(second, k, 3)], cwd=config.PROJECT_ROOT, env=crawl_env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for k in (0, 1)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()[-3000:]
    assert runs.site_crawl(conn, second, "demo_tz")["status"] == "running"
    assert all(v[0] == "active" for v in statuses(conn).values()), "gone only once every shard is in"

    crawl("demo_tz", crawl_env, *shard_args(second, 2, 3))
    record = runs.site_crawl(conn, second, "demo_tz")
    want = expected("demo_tz")
    assert record["status"] == "succeeded", record
    assert record["listings_seen"] == want["listings"] - 2
    gone = {k for k, v in statuses(conn).items() if v[0] == "gone"}
    assert gone == {"tz0001", "tz0002"}
    assert seen_ids(conn, second) == set(want["listing_ids"]) - gone
    with conn.cursor() as cur:
        cur.execute("""SELECT shard, status, stats->>'finish_reason' FROM shard_crawls WHERE run_id = %s
                       ORDER BY shard""", (second,))
        assert cur.fetchall() == [(0, "succeeded", "finished"), (1, "succeeded", "finished"),
                                  (2, "succeeded", "finished")]
        cur.execute("SELECT stats->'shards', stats->'lifecycle', stats->'query_results' FROM site_crawls "
                    "WHERE run_id = %s", (second,))
        n_shards, life, found = cur.fetchone()
    assert (n_shards, life) == (3, {"gone": 2})
    assert set(found) == {t.term for t in keywords.load(config.load().keywords_dir)
                          .search_queries(sites.load("demo_tz").languages)}, "every term searched, once"

    # Re-running a shard (a cleared task) changes nothing.
    before = snapshot(conn, second)
    crawl("demo_tz", crawl_env, *shard_args(second, 1, 3))
    assert snapshot(conn, second) == before
    assert runs.site_crawl(conn, second, "demo_tz")["status"] == "succeeded"
    assert {k for k, v in statuses(conn).items() if v[0] == "gone"} == {"tz0001", "tz0002"}


def test_sharded_and_single_crawls_of_a_site_store_the_same(crawl_env, conn):
    one = monthly_run(conn, "single", dt.date(2026, 10, 1))
    crawl("demo_vn", crawl_env, "-a", f"run_id={one}")
    single = snapshot(conn, one)
    split = monthly_run(conn, "split", dt.date(2026, 11, 1))
    every_page = {**crawl_env, "WILDWATCH_REFETCH_AFTER_DAYS": "0"}  # fetch counts compared, not incremental
    for k in range(4):
        crawl("demo_vn", every_page, *shard_args(split, k, 4))
    assert snapshot(conn, split) == single
    assert runs.site_crawl(conn, split, "demo_vn")["pages_fetched"] == runs.site_crawl(conn, one, "demo_vn")[
        "pages_fetched"]


def test_a_site_whose_shard_never_finished_is_failed_with_the_reason_at_summary(crawl_env, conn):
    run_id = monthly_run(conn, "lost-shard", dt.date(2026, 11, 1))
    crawl("demo_vn", crawl_env, *shard_args(run_id, 0, 2))
    with conn:  # shard 2's task started it, then ran out of tries with its worker gone
        site_id = runs.upsert_site(conn, sites.load("demo_vn"))
        runs.begin_shard(conn, run_id, site_id, 1, 2, "w1")
    with conn:
        summary = runs.summarize_run(conn, run_id)
    assert summary["status"] == "failed"
    assert summary["sites"][0]["reason"] == "only 1 of 2 keyword shards finished"


def break_two_found_by_two_shards(takedowns, n: int) -> tuple[dict[str, set[int]], list[str]]:
    """(which of n shards find each demo_tz listing, two listings that terms of two shards find)."""
    terms = [t.term for t in keywords.load(config.load().keywords_dir).search_queries(sites.load("demo_tz").languages)]
    site = takedowns.sites["demo_tz"]
    shards_of: dict[str, set[int]] = {}
    for k in range(n):
        for term in shards.part(terms, k, n):
            for listing in generator.search(site, term):
                shards_of.setdefault(listing.id, set()).add(k)
    broken = sorted(i for i, found_in in shards_of.items() if len(found_in) >= 2)[:2]
    assert len(broken) == 2, "the demo has listings that terms of two shards find"
    return shards_of, broken


def test_a_failing_listing_page_is_fetched_by_one_shard_of_a_run_not_by_each(crawl_env, conn, takedowns):
    """A listing found through terms of several shards whose page answers 500: the first shard to ask tries
    it (with Scrapy's retries) and records the failure; the run's other shards skip it, so the page is
    requested and counted as one error once a run, not once a shard."""
    n = 3
    shards_of, broken = break_two_found_by_two_shards(takedowns, n)
    takedowns.break_pages("demo_tz", broken)
    run_id = monthly_run(conn, "broken-page", dt.date(2026, 11, 1))
    takedowns.served["demo_tz"].take()
    for k in range(n):
        crawl("demo_tz", crawl_env, *shard_args(run_id, k, n))
    served = takedowns.served["demo_tz"].take()
    tries = 1 + get_project_settings().getint("RETRY_TIMES")
    assert {i: served[f"/item/{i}"] for i in broken} == {i: tries for i in broken}
    with conn.cursor() as cur:
        cur.execute("SELECT stats FROM site_crawls WHERE run_id = %s", (run_id,))
        stats = cur.fetchone()[0]
        cur.execute("SELECT url, reason FROM run_failed_pages WHERE run_id = %s ORDER BY url", (run_id,))
        recorded = cur.fetchall()
    assert stats["errors"] == 2 and stats["error_reasons"] == {"HTTP 500": 2}, stats
    assert stats["skipped_failed"] >= 2, stats
    assert [(u.rsplit("/", 1)[1], r) for u, r in recorded] == [(i, "HTTP 500") for i in broken]
    record = runs.site_crawl(conn, run_id, "demo_tz")
    assert record["listings_seen"] == expected("demo_tz")["listings"] - 2, record
    # `runs show` and the report's crawl health say which pages failed and why, not only how many
    from wildwatch.commands.runs import show_run
    from wildwatch.report import queries

    shown = {s["site"]: s for s in show_run(conn, str(run_id))["sites"]}["demo_tz"]
    assert shown["error_reasons"] == {"HTTP 500": 2}
    assert sorted((p["url"].rsplit("/", 1)[1], p["reason"]) for p in shown["failed_pages"]) == \
        [(i, "HTTP 500") for i in broken]
    shown_text = subprocess.run([sys.executable, "-m", "wildwatch.cli", "runs", "show", str(run_id)], env=crawl_env,
                                capture_output=True, text=True, timeout=120).stdout
    assert "2 failed requests: HTTP 500 x2" in shown_text
    assert all(f"failed page {url}: HTTP 500" in shown_text for url, _ in recorded), shown_text
    health = queries.fetch(conn, queries.CRAWL_HEALTH, {"month": dt.date(2026, 11, 1), "country": None})
    assert [(r["failed_requests"], r["why_failed"]) for r in health if r["site"] == "demo_tz"] == [(2, "HTTP 500 x2")]

    # The shard that failed on them, run again (a cleared task), tries them again: the site may be mended.
    # (its own claims stay its own)
    takedowns.restore()
    first = min(min(shards_of[i]) for i in broken)
    crawl("demo_tz", crawl_env, *shard_args(run_id, first, n))
    assert seen_ids(conn, run_id) >= {i for i in broken if first in shards_of[i]}


def test_shards_started_together_fetch_a_failing_page_once_not_once_each(crawl_env, conn, takedowns):
    """The same, with the shards running at the same time (as Airflow runs them): before fetching, a shard claims
    the listing pages for the run; another shard that found them too leaves them to it."""
    n = 3
    _, broken = break_two_found_by_two_shards(takedowns, n)
    takedowns.break_pages("demo_tz", broken)
    run_id = monthly_run(conn, "together", dt.date(2026, 11, 1))
    takedowns.served["demo_tz"].take()
    every_page = {**crawl_env, "WILDWATCH_REFETCH_AFTER_DAYS": "0"}
    # answers at a real site's pace, so that the shards' crawls overlap as they do in production
    handler = takedowns.servers["demo_tz"].RequestHandlerClass
    handler.latency_s = 0.2
    try:
        procs = [subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "marketplace", "-a", "site=demo_tz",
                                   *shard_args(run_id, k, n)], env=every_page, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for k in range(n)]
        assert all(p.wait(300) == 0 for p in procs)
    finally:
        handler.latency_s = 0.0
    served = takedowns.served["demo_tz"].take()
    tries = 1 + get_project_settings().getint("RETRY_TIMES")
    assert {i: served[f"/item/{i}"] for i in broken} == {i: tries for i in broken}
    # and every other listing page once: the shards split them instead of each fetching its own finds
    want = expected("demo_tz")
    assert all(served[f"/item/{i}"] == 1 for i in set(want["listing_ids"]) - set(broken)), served
    record = runs.site_crawl(conn, run_id, "demo_tz")
    assert record["status"] == "failed" or record["listings_seen"] == want["listings"] - 2, record
    assert seen_ids(conn, run_id) == set(want["listing_ids"]) - set(broken)
