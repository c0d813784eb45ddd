"""The learning loop end to end: two monthly demo surveys; analysts' decisions on the first month (from the
demo's ground truth, through the review app's decision code) train a model through the `wildwatch_ranker`
DAG; the second month's queue is ordered by it and beats the keyword order; the audit sample is queued blind
and the report estimates what the filter missed."""
import datetime as dt

import pytest

from test_dags import run_dag
from wildwatch import survey
from wildwatch.demo import generator
from wildwatch.ranker import metrics, registry
from wildwatch.report.build import build_report
from wildwatch.review import claims, repository

SITES = ["demo_cm", "demo_cn", "demo_tz", "demo_vn"]


def survey_month(key: str, month: dt.date) -> int:
    """A monthly survey through the survey DAG's own task functions (the DAG itself is tested in test_dags)."""
    params = {"sites": SITES}
    run_id = survey.start_run(key, "monthly", month, params)
    for name in SITES:
        for target in survey.plan_site(run_id, name, params):
            survey.crawl_shard(target)
    survey.summarize(run_id)
    survey.audit_sample(run_id)
    return run_id


def truth() -> dict[str, generator.DemoListing]:
    out = {}
    for site in generator.load_ground_truth().values():
        for listing in site.listings + site.later:
            out[listing.id] = listing
    return out


def demo_id(url: str) -> str:
    return url.split("/item/")[1].split("?")[0].split("/")[0]


def decide_everything(conn, labels: dict) -> dict[str, int]:
    """An analyst works through the whole queue and records what the ground truth says."""
    counts = {"confirmed": 0, "legal": 0, "not_wildlife": 0}
    while True:
        with conn:
            item = claims.claim_next(conn, "amina")
            if item is None:
                return counts
            with conn.cursor() as cur:
                cur.execute("SELECT url FROM listings WHERE id = %s", (item["listing_id"],))
                listing = labels[demo_id(cur.fetchone()[0])]
            decision = "confirmed" if listing.label == "wildlife" else "legal" if listing.cover else "not_wildlife"
            claims.decide(conn, item["queue_id"], "amina", decision, product_group=listing.group)
            counts[decision] += 1


@pytest.mark.airflow
@pytest.mark.browser
def test_decisions_teach_the_ranker_and_the_next_month_is_ordered_by_it(crawl_env, conn, takedowns, airflow_metadata,
                                                                        monkeypatch):
    monkeypatch.setenv("WILDWATCH_AUDIT_SHARE", "1")  # the demo is small: audit every unqueued listing
    monkeypatch.setenv("WILDWATCH_OCR_BUDGET_SECONDS", "0")  # photos are read in test_dags' survey
    labels = truth()
    first = survey_month("loop-2026-10", dt.date(2026, 10, 1))
    decided = decide_everything(conn, labels)
    assert decided["confirmed"] >= 50 and decided["legal"] == 2 and decided["not_wildlife"] >= 10, decided

    result = run_dag("wildwatch_ranker", airflow_metadata)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    [model] = registry.list_models(conn)
    assert model["active"] and model["positives"] == decided["confirmed"]
    assert "cross-validated AP" in model["evaluation"]["rule"]

    takedowns.next_month()
    second = survey_month("loop-2026-11", dt.date(2026, 11, 1))
    assert second != first
    with conn.cursor() as cur:
        cur.execute("""SELECT l.url, l.score, l.rank_score, q.priority, q.reason, l.rank_model FROM review_queue q
                       JOIN listings l ON l.id = q.listing_id WHERE q.run_id = %s AND q.status = 'pending'""", (second,))
        queued = cur.fetchall()
    offers = [r for r in queued if r[4] != "audit"]
    assert offers and all(r[5] == model["version"] and r[3] == pytest.approx(r[2]) for r in offers)
    y = [int(labels[demo_id(r[0])].label == "wildlife") for r in offers]
    by_ranker = metrics.average_precision(y, [r[3] for r in offers])
    by_keywords = metrics.average_precision(y, [r[1] for r in offers])
    assert 0 < sum(y) < len(y)  # legal-sounding covers came in with the new offers
    print(f"month 2 queue: average precision {by_ranker:.3f} in ranker order, {by_keywords:.3f} in keyword order")
    assert by_ranker > by_keywords, (by_ranker, by_keywords)
    # the review app hands items out in that order
    page = repository.queue_page(conn, month="2026-11")
    assert [row["priority"] for row in page] == sorted((row["priority"] for row in page), reverse=True)

    audit = [r for r in queued if r[4] == "audit"]
    assert audit, "the audit sample is queued"
    keys = {frozenset(row) for row in page}
    assert len(keys) == 1 and not any("audit" in str(v) for row in page for v in row.values())
    decide_everything(conn, labels)
    report = build_report(conn, "2026-11")
    rows = {r["measure"]: r for r in report.tables["filter_quality"]}
    missed = rows["offers missed by the filter (all groups)"]
    assert missed["decided"] == len(audit) and missed["population"] >= len(audit)
    assert missed["share_low"] <= missed["share"] <= missed["share_high"] and missed["estimate_high"] >= 1
    # the offer in a code word no keyword list knows ("Hàng trắng") escaped the filter and the model alike; the
    # audit found it, and the estimate counts it
    [planted] = [r for r in queued if labels[demo_id(r[0])].title.startswith("Hàng trắng")]
    assert planted[4] == "audit"
    assert missed["confirmed"] == 1 and rows["offers missed by the filter: ivory"]["confirmed"] == 1
    assert rows["precision of the queue (confirmed / decided)"]["decided"] == len(offers)
