"""Compares a survey run over the demo marketplaces with the demo's ground truth."""
from __future__ import annotations


from wildwatch import config, keywords, sites
from wildwatch.demo import generator


def latest_run(conn, run_key: str | None = None) -> tuple[int, str] | None:
    with conn.cursor() as cur:
        if run_key:
            cur.execute("SELECT id, run_key FROM crawl_runs WHERE run_key = %s", (run_key,))
        else:
            cur.execute("SELECT id, run_key FROM crawl_runs WHERE kind <> 'manual' ORDER BY id DESC LIMIT 1")
        return cur.fetchone()


def compare(conn, run_id: int, month: int = 1) -> list[dict]:
    """Per demo site: what the run fetched and queued against what the demo's month `month` offers. A repeat
    survey reads unchanged listings from their last fetch (incremental): those pages count as fetched."""
    kb = keywords.load(config.load().keywords_dir)
    demo = generator.load_ground_truth()
    if month == 2:
        for site in demo.values():
            site.next_month()
    rows = []
    with conn.cursor() as cur:
        cur.execute("""SELECT s.name, sc.status, sc.reason, sc.pages_fetched, sc.listings_seen, sc.candidates_queued,
                              coalesce((sc.stats->>'details_skipped')::int, 0)
                       FROM site_crawls sc JOIN sites s ON s.id = sc.site_id WHERE sc.run_id = %s
                       ORDER BY s.name""", (run_id,))
        crawled = cur.fetchall()
        for name, status, reason, fetched, listings, queued, reused in crawled:
            if name not in demo:
                continue
            pages = fetched + reused
            site = sites.load(name)
            expected = generator.expected_crawl(demo[name], [t.term for t in kb.search_queries(site.languages)])
            cur.execute("""SELECT l.url, s.queued FROM sightings s JOIN listings l ON l.id = s.listing_id
                           JOIN sites st ON st.id = l.site_id WHERE s.run_id = %s AND st.name = %s""",
                        (run_id, name))
            seen = {generator.listing_id_from_url(url): q for url, q in cur.fetchall()}
            should = set(expected["should_queue"])
            queued_ids = {i for i, q in seen.items() if q}
            rows.append({
                "site": name, "status": status, "reason": reason,
                "pages": pages, "reused": reused, "expected_pages": expected["pages"],
                "listings": listings, "expected_listings": expected["listings"],
                "queued": queued, "wildlife_missed": sorted(should - queued_ids),
                "queued_not_wildlife": sorted(queued_ids - should),
                "listings_missing": sorted(set(expected["listing_ids"]) - set(seen)),
                "planted_misses": sorted(i for i in expected["listing_ids"]
                                         if demo[name].get(i).escapes_filter and not seen.get(i)),
            })
    return rows


def print_report(conn, run_key: str | None = None, month: int = 1) -> bool:
    found = latest_run(conn, run_key)
    if not found:
        print("no survey run recorded yet")
        return False
    run_id, key = found
    rows = compare(conn, run_id, month)
    print(f"\nSurvey run {run_id} ({key}) against the demo ground truth (month {month})")
    print(f"{'site':10s} {'status':10s} {'pages':>11s} {'listings':>11s} {'queued':>7s} {'not wildlife':>13s} "
          f"{'wildlife missed':>16s}")
    ok = bool(rows)
    for r in rows:
        good = (r["pages"] == r["expected_pages"] and r["listings"] == r["expected_listings"]
                and not r["wildlife_missed"] and r["status"] == "succeeded")
        ok &= good
        print(f"{r['site']:10s} {r['status']:10s} {r['pages']:>4d} of {r['expected_pages']:<4d} "
              f"{r['listings']:>4d} of {r['expected_listings']:<4d} {r['queued']:>7d} {len(r['queued_not_wildlife']):>13d} "
              f"{len(r['wildlife_missed']):>16d}  {'OK' if good else 'MISMATCH'}")
        if r["planted_misses"]:
            print(f"         {len(r['planted_misses'])} offer(s) planted in words no keyword list knows, not queued "
                  "as meant: the blind audit sample is there to find them")
        if r["reused"]:
            print(f"         {r['reused']} unchanged listing(s) read from their last fetch, not fetched again")
        if r["reason"]:
            print(f"         reason: {r['reason']}")
    total_q = sum(r["queued"] for r in rows)
    not_wild = sum(len(r["queued_not_wildlife"]) for r in rows)
    print(f"candidates queued: {total_q}; of them not wildlife offers: {not_wild} "
          f"({100 * not_wild / total_q if total_q else 0:.1f}%)")
    with conn.cursor() as cur:
        cur.execute("""SELECT (SELECT count(*) FROM listings), (SELECT count(*) FROM review_queue),
                              (SELECT count(*) FROM review_queue WHERE reason = 'audit'),
                              (SELECT count(*) FROM sightings), (SELECT count(*) FROM crawl_runs)""")
        listings, queue, audit, sightings, n_runs = cur.fetchone()
    # for whoever runs the demo, not for analysts: the audit items are blind in the review app
    print(f"database totals after {n_runs} run(s): {listings} listings, {queue} in the review queue "
          f"({audit} of them the blind audit sample of unqueued listings), {sightings} sightings")
    return ok
