"""The monthly report on a seeded twelve-month history (five platforms, four countries): every number in
its tables checked against an independent query of the raw tables."""
import csv
import datetime as dt
import subprocess
import sys
from collections import Counter, defaultdict

import pytest

from test_crawl import ROOT
from wildwatch import config, keywords
from wildwatch.demo.history import NEVER_YIELD_TERM, PLANTED_CODE_WORD, seed
from wildwatch.matching import fold
from wildwatch.report.build import TABLES, build_report, write

MONTH = dt.date(2026, 10, 1)


@pytest.fixture
def history(conn):
    with conn:
        counts = seed(conn, MONTH)
    return counts


def raw_items(conn, months: list[dt.date]) -> list[dict]:
    """Queue items with their latest decision, straight from the tables, grouped in Python."""
    with conn.cursor() as cur:
        cur.execute("""SELECT q.id, q.status, r.period, s.name, s.country, l.language, l.seller,
                              (SELECT d.decision FROM review_decisions d WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1),
                              (SELECT d.product_group FROM review_decisions d WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1),
                              (SELECT min(m.product_group) FROM keyword_matches m WHERE m.listing_id = l.id),
                              q.listing_id
                       FROM review_queue q, crawl_runs r, listings l, sites s
                       WHERE r.id = q.run_id AND l.id = q.listing_id AND s.id = l.site_id AND r.period = ANY(%s)""",
                    (months,))
        out = []
        for qid, status, period, site, country, lang, seller, decision, dgroup, mgroup, lid in cur.fetchall():
            out.append({"queue_id": qid, "period": period, "platform": site, "country": country, "language": lang,
                        "seller": seller, "group": dgroup or mgroup, "listing_id": lid,
                        "settled": status == "decided" and decision is not None,
                        "confirmed": status == "decided" and decision == "confirmed"})
        return out


def test_every_number_in_the_report_matches_the_raw_tables(conn, history, tmp_path):
    report = build_report(conn, "2026-10")
    t = report.tables
    prev = dt.date(2026, 9, 1)
    items = raw_items(conn, [MONTH, prev])

    # Offers by group x platform x country x language, with last month's.
    expect = defaultdict(lambda: [0, 0, 0, 0])
    for i in items:
        key = (i["group"], i["platform"], i["country"], i["language"])
        col = 0 if i["period"] == MONTH else 2
        expect[key][col] += 1
        expect[key][col + 1] += i["confirmed"]
    got = {(r["product_group"], r["platform"], r["country"], r["language"]):
           [r["queued"], r["confirmed"], r["queued_prev"], r["confirmed_prev"]] for r in t["offers"]}
    assert got == dict(expect) and len(got) >= 10
    assert all(r["confirmed_change"] == r["confirmed"] - r["confirmed_prev"] for r in t["offers"])
    # audit finds are counted apart: confirmed = confirmed of the queued + found by the blind audit
    assert all(r["confirmed"] == r["confirmed_of_queued"] + r["found_by_audit"]
               and r["confirmed_of_queued"] <= r["queued"] for r in t["offers"])
    assert {r["country"] for r in t["offers"]} == {"CN", "VN", "CM", "TZ"}

    # Trend: twelve months per group.
    months = [dt.date(2025 + (m // 12), m % 12 + 1, 1) for m in range(10, 22)]
    year = raw_items(conn, months)
    trend = Counter((i["group"], f"{i['period']:%Y-%m}") for i in year)
    trend_confirmed = Counter((i["group"], f"{i['period']:%Y-%m}") for i in year if i["confirmed"])
    assert {(r["product_group"], r["month"]): (r["queued"], r["confirmed"]) for r in t["trend"]} == \
        {k: (v, trend_confirmed.get(k, 0)) for k, v in trend.items()}
    assert len({r["month"] for r in t["trend"]}) == 12

    with conn.cursor() as cur:
        # Lifecycle.
        cur.execute("SELECT id FROM crawl_runs WHERE period = %s", (MONTH,))
        run = cur.fetchone()[0]
        cur.execute("""SELECT s.name, count(*) FILTER (WHERE l.first_run_id = %(r)s),
                              count(*) FILTER (WHERE l.first_run_id <> %(r)s)
                       FROM sightings g JOIN listings l ON l.id = g.listing_id JOIN sites s ON s.id = l.site_id
                       WHERE g.run_id = %(r)s GROUP BY s.name""", {"r": run})
        seen = {n: (a, b) for n, a, b in cur.fetchall()}
        cur.execute("""SELECT s.name, count(*) FROM listings l JOIN sites s ON s.id = l.site_id
                       WHERE l.gone_run_id = %s OR (l.gone_reason = 'removed' AND date_trunc('month', l.gone_at) = %s)
                       GROUP BY s.name""", (run, MONTH))
        gone = dict(cur.fetchall())
        assert {r["platform"]: (r["new"], r["seen_again"], r["gone"]) for r in t["lifecycle"]} == \
            {n: (*seen.get(n, (0, 0)), gone.get(n, 0)) for n in set(seen) | set(gone)}
        assert all(r["seen_again"] > 0 and r["gone"] > 0 for r in t["lifecycle"])

        # Referrals sent this month and their removals.
        cur.execute("""SELECT f.recipient, count(*), c.checked_at - f.sent_at
                       FROM referrals f JOIN referral_items ri ON ri.referral_id = f.id
                       LEFT JOIN takedown_checks c ON c.listing_id = ri.listing_id AND c.outcome = 'removed'
                       WHERE date_trunc('month', f.sent_at) = %s GROUP BY f.recipient, c.checked_at, f.sent_at""",
                    (MONTH,))
        per = defaultdict(list)
        for name, n, delay in cur.fetchall():
            per[name] += [delay] * n
        for r in t["referrals"]:
            delays = per[r["recipient"]]
            removed = sorted(d.total_seconds() / 86400 for d in delays if d is not None)
            assert r["listings_referred"] == len(delays) and r["removed"] == len(removed)
            assert r["removed_7d"] == sum(d <= 7 for d in removed) and r["removed_30d"] == sum(d <= 30 for d in removed)
            assert r["share_removed_7d"] == pytest.approx(round(r["removed_7d"] / len(delays), 3))
            mid = len(removed) // 2
            median = removed[mid] if len(removed) % 2 else (removed[mid - 1] + removed[mid]) / 2
            assert r["median_days_to_removal"] == pytest.approx(median, abs=0.05)
        assert {r["recipient"] for r in t["referrals"]} == set(per)

        # Keyword yield.
        this_month = [i for i in items if i["period"] == MONTH]
        cur.execute("SELECT listing_id, term FROM keyword_matches")
        terms_of = defaultdict(set)
        for lid, term in cur.fetchall():
            terms_of[lid].add(term)
        by_term = defaultdict(lambda: [0, 0, 0])
        for i in this_month:
            for term in terms_of[i["listing_id"]]:
                by_term[term][0] += 1
                by_term[term][1] += i["settled"]
                by_term[term][2] += i["confirmed"]
        assert {r["term"]: [r["queued"], r["decided"], r["confirmed"]] for r in t["keyword_yield"]} == dict(by_term)

        # Terms with 3+ decided candidates in twelve months and no confirmation.
        year_ids = {i["listing_id"]: i for i in year}
        per_term = defaultdict(lambda: [0, 0, 0])
        for lid, found in terms_of.items():
            if lid in year_ids:
                for term in found:
                    per_term[term][0] += 1
                    per_term[term][1] += year_ids[lid]["settled"]
                    per_term[term][2] += year_ids[lid]["confirmed"]
        never = {term: (q, d) for term, (q, d, c) in per_term.items() if c == 0 and d >= 3}
        assert {r["term"]: (r["queued"], r["decided"]) for r in t["never_yield"]} == never
        assert NEVER_YIELD_TERM in never

    # Seller networks: each seller account is a network, sellers 0 and 1 of every platform share a WhatsApp
    # number (one network each across platforms); confirmed on more than one platform, country or month.
    def network_of(i):
        index = i["seller"].rsplit("-", 1)[1]
        return f"whatsapp {index}" if index in ("0", "1") else i["seller"]

    confirmed = [i for i in year if i["confirmed"]]
    spread = defaultdict(lambda: (set(), set(), set(), set()))
    for i in confirmed:
        platforms, countries, periods, offers = spread[network_of(i)]
        platforms.add(i["platform"]), countries.add(i["country"]), periods.add(i["period"]), offers.add(i["listing_id"])
    expect_networks = sorted((len(o), len(p), len(c), len(m)) for p, c, m, o in spread.values()
                             if (len(p) > 1 or len(c) > 1 or len(m) > 1) and MONTH in m)
    rows = t["seller_networks"]
    assert sorted((r["confirmed_offers"], r["platforms"], r["countries"], r["months"]) for r in rows) == expect_networks
    assert rows[0]["platforms"] == len({i["platform"] for i in year}) and rows[0]["linked_by"] == "phone, seller account"
    assert all(r["linked_by"] == "seller account" for r in rows if r["platforms"] == 1)

    # Crawl health: one row per platform, from its site crawl.
    assert sorted(r["site"] for r in t["crawl_health"]) == sorted(seen)
    assert all(r["healthy"] and r["title_coverage"] == 1.0 for r in t["crawl_health"])
    with conn.cursor() as cur:
        cur.execute("""SELECT s.name, (SELECT count(*) FROM jsonb_object_keys(sc.stats->'query_results')),
                              (SELECT count(*) FROM jsonb_each(sc.stats->'query_results') q WHERE q.value = '0')
                       FROM site_crawls sc JOIN sites s ON s.id = sc.site_id JOIN crawl_runs r ON r.id = sc.run_id
                       WHERE r.period = %s""", (MONTH,))
        terms_found = {n: (a, b) for n, a, b in cur.fetchall()}
    assert {r["site"]: (r["search_terms"], r["terms_without_results"]) for r in t["crawl_health"]} == terms_found
    assert terms_found["hist_market"][1] == 1 and terms_found["hist_cn"][1] == 0
    # Harvest: candidates and confirmed offers per 1,000 requests of each site's crawl.
    for r in t["crawl_health"]:
        mine = [i for i in this_month if i["platform"] == r["site"]]
        assert (r["candidates"], r["confirmed"]) == (len(mine), sum(i["confirmed"] for i in mine))
        assert r["requests"] > r["pages"] and r["details_skipped"] == 0
        assert float(r["candidates_per_1k_requests"]) == pytest.approx(1000 * len(mine) / r["requests"], abs=0.05)
        assert float(r["confirmed_per_1k_requests"]) == pytest.approx(
            1000 * r["confirmed"] / r["requests"], abs=0.05)
    assert any(r["confirmed"] for r in t["crawl_health"])

    # Suggested terms: the planted code word, and nothing already in the keyword lists.
    suggested = [r["term"] for r in t["suggested_terms"]]
    assert PLANTED_CODE_WORD in suggested, suggested
    known = {fold(k.term) for k in keywords.load(config.load().keywords_dir).terms}
    assert not set(suggested) & known

    files = write(report, tmp_path)
    assert set(files) == {"html", "xlsx", *TABLES}
    with files["offers"].open(encoding="utf-8") as fh:
        assert len(list(csv.reader(fh))) == len(t["offers"]) + 1
    from openpyxl import load_workbook
    book = load_workbook(files["xlsx"])
    assert book.sheetnames == list(TABLES)
    assert book["offers"].max_row == len(t["offers"]) + 1
    html = files["html"].read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "象牙" in html and "ngà voi" in html


def test_the_public_version_names_no_seller_and_no_listing_url(conn, history, tmp_path):
    report = build_report(conn, "2026-10", public=True)
    files = write(report, tmp_path)
    text = "".join(p.read_text(encoding="utf-8") for k, p in files.items() if k != "xlsx")
    assert "-seller-" not in text and "https://" not in text
    rows = report.tables["seller_networks"]
    assert rows and [r["network"] for r in rows] == [f"network {i}" for i in range(1, len(rows) + 1)]
    assert "+2557" not in text and "phone, seller account" in text  # the kind of link, never the contact


def test_a_country_report_covers_that_country_only(conn, history):
    report = build_report(conn, "2026-10", country="vn")
    assert {r["country"] for r in report.tables["offers"]} == {"VN"}
    assert {r["site"] for r in report.tables["crawl_health"]} == {"hist_vn"}


def test_the_report_command_writes_the_files(crawl_env, conn, history, tmp_path):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "wildwatch.cli", "report", "--month", "2026-10", "--out", str(out)],
                            cwd=ROOT, env=crawl_env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (out / "report-2026-10.html").is_file() and (out / "report-2026-10.xlsx").is_file()
    bad = subprocess.run([sys.executable, "-m", "wildwatch.cli", "report", "--month", "October"], cwd=ROOT,
                         env=crawl_env, capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "YYYY-MM" in bad.stderr


@pytest.mark.browser
def test_supervisors_open_past_reports_in_the_review_app_and_they_render_in_chromium(conn, history, database_url,
                                                                                    tmp_path):
    from playwright.sync_api import sync_playwright

    from helpers import browser_login, served
    from spiders.browser import CHROMIUM_ARGS, chromium_path
    from wildwatch.review import accounts
    from wildwatch.review.app import create_app
    from wildwatch.review.settings import ReviewSettings

    report = build_report(conn, "2026-10")
    write(report, tmp_path / "reports" / report.label)
    with conn:
        accounts.add_user(conn, "sam", "supervisor", "correct horse battery")
    app = create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url, reports_dir=tmp_path / "reports"))
    errors = []
    with served(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        browser_login(page, base, "sam", "correct horse battery")
        page.goto(base + "/reports")
        page.click("text=2026-10")
        page.wait_for_url(base + "/reports/2026-10")
        assert page.locator("h1").inner_text().startswith("wildwatch monthly survey report: October 2026")
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        assert len(widths) == 3 and all(w > 300 for w in widths), widths  # trend, prices, removals
        assert page.locator("img[alt^='median asking price']").count() == 1
        assert page.locator("#table-offers tbody tr").count() == len(report.tables["offers"])
        assert "象牙" in page.locator("#table-keyword_yield").inner_text()
        page.screenshot(path=str(tmp_path / "report.png"))
        # at a laptop's 1366x768 the page is no wider than the window: wide tables scroll inside their box
        page.set_viewport_size({"width": 1366, "height": 768})
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        wrapped = page.eval_on_selector_all("table", "ts => ts.map(t => t.parentElement.className)")
        assert wrapped and set(wrapped) == {"table-wrap"}
        browser.close()
    assert errors == []


def test_the_report_says_how_far_review_has_got_and_reads_as_analysts_expect(conn, tmp_path):
    """Review status first; the trend starts at the first surveyed month; one keyword-yield row per term
    whatever its case; display names in tables; crawl-health rows labelled by run and date, latest first."""
    from wildwatch.demo.history import HistorySize

    with conn:
        seed(conn, MONTH, HistorySize(months=3, listings_per_platform_month=20))
    with conn, conn.cursor() as cur:  # the same term in two cases on two of the month's candidates
        cur.execute("""SELECT q.listing_id FROM review_queue q JOIN crawl_runs r ON r.id = q.run_id
                       WHERE r.period = %s ORDER BY q.id LIMIT 2""", (MONTH,))
        a, b = (r[0] for r in cur.fetchall())
        for listing, term in ((a, "Perroquet gris"), (b, "perroquet gris")):
            cur.execute("""INSERT INTO keyword_matches (listing_id, term, language, product_group, kind, field,
                                                        span_start, span_end, matched_text)
                           VALUES (%s, %s, 'fr', 'live_birds', 'product', 'title', 0, 14, %s)""",
                        (listing, term, term))
        cur.execute("""UPDATE review_decisions d SET species = 'Loxodonta africana' FROM review_queue q
                       JOIN crawl_runs r ON r.id = q.run_id
                       WHERE d.queue_id = q.id AND d.id IN (
                           SELECT d2.id FROM review_decisions d2 JOIN review_queue q2 ON q2.id = d2.queue_id
                           JOIN crawl_runs r2 ON r2.id = q2.run_id
                           WHERE r2.period = %s AND d2.decision = 'confirmed' AND q2.status = 'decided'
                           ORDER BY d2.id LIMIT 3)""", (MONTH,))
        named = cur.rowcount
        cur.execute("SELECT count(*) FILTER (WHERE NOT (q.reason = 'audit')), count(*) FILTER (WHERE q.status = 'decided') "
                    "FROM review_queue q JOIN crawl_runs r ON r.id = q.run_id WHERE r.period = %s", (MONTH,))
        candidates, decided = cur.fetchone()
    report = build_report(conn, "2026-10")
    assert (report.review["candidates"], report.review["decided"]) == (candidates, decided) and decided < candidates
    assert report.trend_months == ["2026-08", "2026-09", "2026-10"]  # not nine empty months first
    parrot = [r for r in report.tables["keyword_yield"] if r["term"] == "perroquet gris"]
    assert len(parrot) == 1 and parrot[0]["queued"] == 2
    health = report.tables["crawl_health"]
    assert all(r["run"] and r["started"] for r in health)
    assert [r["started"] for r in health] == sorted((r["started"] for r in health), reverse=True)
    species = report.tables["species"]
    assert sum(r["confirmed"] for r in species if r["species"] == "loxodonta africana") == named == 3
    assert species[0]["species"] == "loxodonta africana"  # named species first, "not recorded" last
    assert sum(r["confirmed"] for r in species) == report.review["confirmed"]
    offers_total = report.totals["offers"]
    assert offers_total["queued"] == sum(r["queued"] for r in report.tables["offers"]) == candidates
    html = write(report, tmp_path)["html"].read_text(encoding="utf-8")
    assert f"<strong>{candidates}</strong> candidates queued, <strong>{report.review['confirmed']}</strong> offers " \
           "confirmed on" in html
    assert '<th>total</th>' in html and f'<th class="n">{offers_total["queued"]}</th>' in html
    assert f"{decided} of {candidates} candidates decided; report written" in html and "still under review" in html
    offers_table = html[html.index('id="table-offers"'):html.index("</table>", html.index('id="table-offers"'))]
    assert "live birds" in offers_table or "big cats" in offers_table
    assert "big_cats" not in offers_table and "live_birds" not in offers_table


def test_every_trend_panel_names_its_months():
    from wildwatch.report import plots

    months = [f"2026-{m:02d}" for m in range(1, 13)]
    trend = [{"product_group": g, "month": m, "queued": 3, "confirmed": 1}
             for g in ("ivory", "pangolin", "big_cats", "rhino_horn", "reptiles") for m in months]
    labels = []
    original = plots.png_data_uri
    try:
        plots.png_data_uri = lambda fig: labels.extend(
            [[t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
             for ax in fig.axes if ax.get_visible() and ax.axison]) or "data:"
        plots.trend_small_multiples(trend, months, "trend")
    finally:
        plots.png_data_uri = original
    assert len(labels) == 5 and all(panel == ["Jan 26", "Mar 26", "May 26", "Jul 26", "Sep 26", "Nov 26"]
                                    for panel in labels), labels


@pytest.mark.parametrize("text, unit, amount", [
    ("Ngà voi 1kg giá tốt", "kg", 1.0), ("Vảy tê tê 500 gam", "kg", 0.5), ("象牙 200克 手镯", "kg", 0.2),
    ("老象牙 1 斤", "kg", 0.5), ("sừng tê giác 2 lạng", "kg", 0.2), ("Ivoire 1,5 kilo", "kg", 1.5),
    ("Ivory bangle 3 pcs", "piece", 3.0), ("Pembe vipande 5", "piece", 5.0), ("象牙筷子 10 件", "piece", 10.0),
    ("Samsung 5G, vòng ngà", None, None), ("Vòng tay ngà voi", None, None),
])
def test_a_stated_weight_or_number_of_pieces_is_read_in_the_surveyed_languages(text, unit, amount):
    from wildwatch.report.prices import quantity

    found = quantity(text)
    assert (found.unit, found.amount) == (unit, amount) if unit else found is None


def test_prices_give_median_quartiles_usd_change_and_per_unit_and_set_apart_lots_and_placeholders():
    from wildwatch import money
    from wildwatch.report.prices import table

    def offer(price, title="vòng ngà", currency="VND", country="VN"):
        return {"product_group": "ivory", "country": country, "price": price, "currency": currency,
                "title": title, "description": ""}
    now = [offer(4_000_000), offer(6_000_000), offer(8_000_000), offer(20_000_000, "ngà voi 1kg"),
           offer(999_999), offer(1), offer(9_000_000, "lô 50kg ngà"), offer(None)]
    before = [offer(5_000_000), offer(7_000_000)]
    (row,) = table(now, before)
    rate = float(money.rates()["usd_per_unit"]["VND"])
    assert row["offers"] == 4 and row["median"] == 7_000_000 and (row["q1"], row["q3"]) == (5_500_000, 11_000_000)
    assert abs(row["median_usd"] - 7_000_000 * rate) < 1e-6 and abs(row["median_usd_prev"] - 6_000_000 * rate) < 1e-6
    assert abs(row["change"] - (7 / 6 - 1)) < 1e-9
    assert row["priced_by_weight"] == 1 and abs(row["usd_per_kg"] - 20_000_000 * rate) < 1e-6
    assert row["set_apart"] == "1 lot, 1 no price, 2 placeholder price"
    # another currency in the same country is its own row; a month without offers has no change
    rows = table(now + [offer(150, currency="USD")], [])
    assert [(r["currency"], r["offers"], r["change"]) for r in rows] == [("USD", 1, None), ("VND", 4, None)]
