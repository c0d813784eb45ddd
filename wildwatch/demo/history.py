"""A synthetic survey history: months of monthly runs over several platforms in four countries, with
candidates, analysts' decisions, lifecycle, referrals and takedowns. For the report's tests, its benchmark,
and a demo report with twelve months of trend. Deterministic for a given seed.

Every listing of a confirmed offer in Viet Nam mentions the code word PLANTED_CODE_WORD, which is in no
keyword list: the report's suggested terms must find it."""
from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

from psycopg2.extras import execute_values

from wildwatch.report.queries import add_months
from wildwatch.networks import store

PLANTED_CODE_WORD = "kemtrang"
# A real keyword whose candidates analysts always reject in this history: the report's never-yield table.
NEVER_YIELD_TERM = "shark fin"
ANALYSTS = ("amina", "bao", "chloe", "juma")
# Asking prices in each country's currency (about this many units to the US dollar).
CURRENCIES = {"CN": ("CNY", 7), "VN": ("VND", 25_000), "CM": ("XAF", 600), "TZ": ("TZS", 2_500)}
# platform, country, language, product terms by group (real entries of the keyword lists), filler words
PLATFORMS = (
    ("hist_cn", "CN", "zh", {"ivory": ["象牙", "牙雕"], "rhino_horn": ["犀牛角"], "pangolin": ["穿山甲片"]},
     ["手镯", "摆件", "老料", "收藏", "包邮"]),
    ("hist_vn", "VN", "vi", {"ivory": ["ngà voi", "vòng ngà"], "rhino_horn": ["sừng tê giác"], "pangolin": ["vảy tê tê"]},
     ["vòng", "tay", "hàng", "xịn", "giá", "tốt", "nguyên", "chiếc"]),
    ("hist_cm", "CM", "fr", {"ivory": ["ivoire"], "pangolin": ["écailles de pangolin"], "big_cats": ["peau de léopard"]},
     ["sculpture", "ancienne", "authentique", "livraison", "rapide", "pièce"]),
    ("hist_tz", "TZ", "sw", {"ivory": ["pembe za ndovu"], "big_cats": ["ngozi ya chui"], "pangolin": ["magamba ya kakakuona"]},
     ["bei", "nzuri", "mpya", "haraka", "bidhaa", "asili"]),
    ("hist_market", "TZ", "en", {"ivory": ["ivory", "elephant tusk"], "rhino_horn": ["rhino horn"],
                                 "shark_fin": [NEVER_YIELD_TERM]},
     ["carved", "antique", "genuine", "shipping", "statue", "bracelet"]),
)


@dataclass
class HistorySize:
    months: int = 12
    listings_per_platform_month: int = 60   # new listings each month on each platform
    candidate_share: float = 0.5            # of new listings, queued for review
    decided_share: float = 0.85             # of candidates, decided by analysts


def seed(conn, end_month: dt.date, size: HistorySize | None = None, rng_seed: int = 7) -> dict:
    """Write the history into an empty database (all in the caller's transaction); returns counts."""
    size = size or HistorySize()
    rng = random.Random(rng_seed)
    counts = {"listings": 0, "queued": 0, "decisions": 0, "referrals": 0}
    with conn.cursor() as cur:
        site_ids = {}
        for name, country, lang, _terms, _words in PLATFORMS:
            cur.execute("""INSERT INTO sites (name, country, languages, base_url) VALUES (%s, %s, %s, %s)
                           ON CONFLICT (name) DO UPDATE SET country = EXCLUDED.country RETURNING id""",
                        (name, country, [lang], f"https://{name}.example"))
            site_ids[name] = cur.fetchone()[0]
        cur.execute("SELECT term, language, product_group, kind, id FROM keywords")
        keyword_ids = {r[:3]: r[4] for r in cur.fetchall()}
        active: dict[str, list[int]] = {name: [] for name in site_ids}
        first_month = add_months(end_month, -(size.months - 1))
        for k in range(size.months):
            month = add_months(first_month, k)
            cur.execute("""INSERT INTO crawl_runs (run_key, kind, period, status, started_at, finished_at)
                           VALUES (%s, 'monthly', %s, 'succeeded', %s, %s) RETURNING id""",
                        (f"history-{month:%Y-%m}", month, month, month + dt.timedelta(hours=3)))
            run_id = cur.fetchone()[0]
            for name, country, lang, terms, words in PLATFORMS:
                site_id = site_ids[name]
                # Last month's listings: most are seen again, some are gone.
                still, gone = [], []
                for lid in active[name]:
                    (still if rng.random() < 0.7 else gone).append(lid)
                if gone:
                    cur.execute("""UPDATE listings SET status = 'gone', gone_run_id = %s, gone_at = %s,
                                       gone_reason = 'not_found' WHERE id = ANY(%s) AND status = 'active'""",
                                (run_id, month, gone))
                if still:
                    cur.execute("UPDATE listings SET last_run_id = %s, last_seen_at = %s WHERE id = ANY(%s)",
                                (run_id, month, still))
                new_rows, meta = [], []
                for i in range(size.listings_per_platform_month):
                    candidate = rng.random() < size.candidate_share
                    group = rng.choice(sorted(terms))
                    term = rng.choice(terms[group])
                    filler = " ".join(rng.sample(words, 3))
                    title = f"{term} {filler}" if candidate else f"{filler} {rng.choice(words)}"
                    seller = f"{name}-seller-{rng.randrange(40)}"
                    decision = None
                    if candidate and rng.random() < size.decided_share:
                        decision = rng.choices(["confirmed", "not_wildlife", "legal"], [0.45, 0.4, 0.15])[0]
                        if term == NEVER_YIELD_TERM:
                            decision = "not_wildlife"
                    description = f"{filler} {rng.choice(words)}"
                    if decision == "confirmed" and country == "VN":
                        description += f" {PLANTED_CODE_WORD}"
                    url = f"https://{name}.example/item/{month:%Y%m}-{i}"
                    currency, per_usd = CURRENCIES[country]
                    new_rows.append((site_id, url, title, description, rng.randrange(10, 5000) * per_usd, currency, seller,
                                     f"/u/{seller}", lang, 2.0 if candidate else 0.0, run_id, run_id, month, month))
                    meta.append((candidate, group, term, decision))
                ids = [r[0] for r in execute_values(cur, """
                    INSERT INTO listings (site_id, url, title, description, price, currency, seller, seller_account,
                                          language, score,
                                          first_run_id, last_run_id, first_seen_at, last_seen_at)
                    VALUES %s RETURNING id""", new_rows, page_size=1000, fetch=True)]
                counts["listings"] += len(ids)
                # Sellers 0 and 1 of every platform give one WhatsApp number each: two networks across platforms.
                shared = [(lid, "whatsapp", f"+2557000000{row[6][-1]}", f"phone:+2557000000{row[6][-1]}", "description", 0, 1)
                          for lid, row in zip(ids, new_rows, strict=True) if row[6].endswith(("-seller-0", "-seller-1"))]
                if shared:
                    execute_values(cur, """INSERT INTO listing_contacts (listing_id, kind, value, link_key, field,
                                           span_start, span_end) VALUES %s""", shared)
                seen = still + ids
                execute_values(cur, "INSERT INTO sightings (listing_id, run_id, seen_at, title) VALUES %s",
                               [(lid, run_id, month, "-") for lid in seen], page_size=2000)
                active[name] = seen
                matches, queue, decisions = [], [], []
                for lid, (candidate, group, term, decision) in zip(ids, meta, strict=True):
                    if not candidate:
                        continue
                    matches.append((lid, keyword_ids.get((term, lang, group)), term, lang, group, "product", "title",
                                    0, len(term), term))
                    queue.append((lid, run_id, 2.0, "decided" if decision else "pending"))
                    if decision:
                        decisions.append((lid, decision, group, rng.choice(ANALYSTS), month + dt.timedelta(days=5)))
                execute_values(cur, """INSERT INTO keyword_matches (listing_id, keyword_id, term, language, product_group,
                                       kind, field, span_start, span_end, matched_text) VALUES %s""", matches)
                queue_ids = dict(execute_values(cur, """INSERT INTO review_queue (listing_id, run_id, priority, status)
                                                       VALUES %s RETURNING listing_id, id""", queue, fetch=True))
                counts["queued"] += len(queue_ids)
                cur.execute("UPDATE sightings SET queued = true WHERE run_id = %s AND listing_id = ANY(%s)",
                            (run_id, list(queue_ids)))
                if decisions:
                    execute_values(cur, """INSERT INTO review_decisions (queue_id, listing_id, decision, product_group,
                                           decided_by, decided_at) VALUES %s""",
                                   [(queue_ids[lid], lid, d, g, who, at) for lid, d, g, who, at in decisions])
                    counts["decisions"] += len(decisions)
                cur.execute("""INSERT INTO site_crawls (run_id, site_id, status, pages_fetched, listings_seen,
                                   candidates_queued, stats, started_at, finished_at)
                               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                            (run_id, site_id, "succeeded", len(seen) // 5 + 3, len(seen), len(queue_ids),
                             json.dumps({"coverage": {"title": 1.0, "price": 0.96, "seller": 0.9, "location": 0.8},
                                         "requests": len(seen) // 5 + 3 + len(queue_ids), "details_skipped": 0,
                                         "query_results": {t: (0 if t == NEVER_YIELD_TERM else 5)
                                                           for ts in terms.values() for t in ts}}),
                             month, month + dt.timedelta(hours=2)))
                confirmed = [lid for lid, (_c, _g, _t, d) in zip(ids, meta, strict=True) if d == "confirmed"]
                if confirmed:
                    counts["referrals"] += 1
                    removed = _refer(cur, rng, name, month, confirmed)
                    active[name] = [lid for lid in active[name] if lid not in removed]
        counts["networks"] = store.relink(cur)["networks"]
    return counts


def _refer(cur, rng: random.Random, platform: str, month: dt.date, listing_ids: list[int]) -> set[int]:
    """The month's confirmed offers referred to the platform on the 20th; it removes about half, over weeks."""
    sent_at = dt.datetime(month.year, month.month, 20, 9, tzinfo=dt.timezone.utc)
    cur.execute("""INSERT INTO referrals (recipient_kind, recipient, period, status, created_by, sent_at, approved_by)
                   VALUES ('platform', %s, %s, 'sent', 'sam', %s, 'sam') RETURNING id""", (platform, month, sent_at))
    referral_id = cur.fetchone()[0]
    cur.execute("""INSERT INTO referral_items (referral_id, listing_id, decision_id)
                   SELECT %s, d.listing_id, max(d.id) FROM review_decisions d WHERE d.listing_id = ANY(%s)
                   GROUP BY d.listing_id""", (referral_id, listing_ids))
    checks = []
    for lid in listing_ids:
        if rng.random() < 0.5:
            checks.append((lid, sent_at + dt.timedelta(days=rng.choice([2, 5, 6, 12, 25, 40])), "removed", 410))
        else:
            checks.append((lid, sent_at + dt.timedelta(days=7), "live", 200))
    execute_values(cur, "INSERT INTO takedown_checks (listing_id, checked_at, outcome, http_status) VALUES %s", checks)
    removed = set()
    for lid, at, outcome, _status in checks:
        if outcome == "removed":
            removed.add(lid)
            cur.execute("""UPDATE listings SET status = 'gone', gone_reason = 'removed', gone_at = %s, gone_run_id = NULL
                           WHERE id = %s""", (at, lid))
    return removed
