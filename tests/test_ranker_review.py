"""The ranker in the review app: its score and strongest features on the item page, the queue sortable by either."""
import csv
import re
from pathlib import Path

from fastapi.testclient import TestClient

from helpers import queue_decided, seed_site_and_run, sign_in
from wildwatch.ranker import registry
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

DEVSET = Path(__file__).resolve().parent.parent / "keywords" / "eval" / "devset.csv"
HOSTILE = '<script>alert("x")</script> Carved ivory bangle <img src=x onerror=alert(1)>'


def mandate(row) -> bool:
    """This team's decisions: offers, except big-cat parts (another unit handles those). The keyword lists do
    not know that, so only a model learnt from the decisions can order the queue better than they do."""
    return row["label"] == "1" and row["group"] != "big_cats"


def test_item_page_explains_the_ranker_and_the_queue_sorts_by_either(conn, database_url):
    rows = list(csv.DictReader(DEVSET.open(encoding="utf-8")))
    queue_decided(conn, rows[:200:2], confirmed=mandate)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM sites")
        site = cur.fetchone()[0]
        for i, (title, keyword_score) in enumerate([(HOSTILE, 0.5), ("Ivory white wedding dress", 3.0),
                                                    ("Vòng tay ngà voi thật", 1.0)]):
            cur.execute("INSERT INTO listings (site_id, url, title, score) VALUES (%s, %s, %s, %s) RETURNING id",
                        (site, f"http://x/p{i}", title, keyword_score))
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) SELECT %s, id, %s FROM crawl_runs",
                        (cur.fetchone()[0], keyword_score))
        # A supervisor: the scores and the keyword order are theirs (analysts see neither; test_review_blind).
        accounts.add_user(conn, "sam", "supervisor", "correct horse battery")
    registry.train_and_save(conn, user="test", activate=True)
    client = TestClient(create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url)))
    sign_in(client, "sam", "correct horse battery")

    by_ranker = client.get("/").text
    by_keywords = client.get("/?sort=keywords").text

    def titles(page):
        return re.findall(r'<a href="/item/\d+">([^<]*)</a>', page)

    assert titles(by_keywords)[0] == "Ivory white wedding dress"  # keyword score 3.0
    assert titles(by_ranker)[-1] == "Ivory white wedding dress"  # the model learnt the colour from decisions
    assert titles(by_ranker) != titles(by_keywords)
    item_id = re.search(r'<a href="/item/(\d+)">&lt;script', by_ranker).group(1)
    page = client.get(f"/item/{item_id}").text
    assert "Ranker (score" in page and "model v1" in page
    features = re.findall(r'<li class="(up|down)">([+-]\d+\.\d\d) ([^<]*)</li>', page)
    assert 1 <= len(features) <= 6 and any("ivory" in f for _, _, f in features), features
    assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_a_share_of_claims_goes_to_what_the_model_is_least_sure_of_never_to_the_audit(conn):
    from wildwatch.review import claims

    rows = list(csv.DictReader(DEVSET.open(encoding="utf-8")))
    queue_decided(conn, rows[:200:2], confirmed=mandate)
    version = registry.train_and_save(conn, user="test", activate=True)["version"]
    assert claims.active_share_now(conn, 0.2, 400) == 0.75  # 100 decisions so far
    with conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM sites")
        site = cur.fetchone()[0]
        ids = {}
        # (title, priority, the model's score, why queued): the audit item is the most uncertain of all
        for name, priority, rank, reason in (("sure", 0.9, 0.9, "keywords"), ("unsure", 0.55, 0.52, "keywords"),
                                             ("audit", 0.5, 0.5, "audit")):
            cur.execute("""INSERT INTO listings (site_id, url, title, score, rank_score, rank_model)
                           VALUES (%s, %s, %s, 1, %s, %s) RETURNING id""", (site, f"http://x/{name}", name, rank, version))
            cur.execute("""INSERT INTO review_queue (listing_id, run_id, priority, reason)
                           SELECT %s, id, %s, %s FROM crawl_runs RETURNING id""", (cur.fetchone()[0], priority, reason))
            ids[name] = cur.fetchone()[0]
    with conn:
        first = claims.claim_next(conn, "amina", active_share=1.0)
        second = claims.claim_next(conn, "amina", active_share=0.0)
    assert first["queue_id"] == ids["unsure"] and second["queue_id"] == ids["sure"]
    with conn.cursor() as cur:
        cur.execute("""SELECT after->>'picked' FROM audit_log WHERE action = 'claim' AND entity_id = %s""",
                    (str(ids["unsure"]),))
        assert cur.fetchone()[0] == "active"  # the trail says why; the analyst's page does not


def test_the_active_share_is_high_while_the_model_is_young_and_the_floor_after():
    from wildwatch.ranker.policy import active_share

    assert [active_share(0.2, 400, d) for d in (0, 50, 200, 320, 1000)] == [1.0, 0.875, 0.5, 0.2, 0.2]
    assert active_share(0.0, 400, 0) == 0.0  # a floor of 0 turns active picks off, young model or not
    assert active_share(0.3, 0, 0) == 0.3  # no young period: the floor from the start


def test_before_a_first_model_active_claims_draw_the_queue_at_random_and_never_the_audit(conn):
    from wildwatch.review import claims

    with conn, conn.cursor() as cur:
        site, _ = seed_site_and_run(cur)
        ids = {}
        for name, priority, reason in (("top", 0.9, "keywords"), ("second", 0.5, "keywords"), ("audit", 0.1, "audit")):
            cur.execute("INSERT INTO listings (site_id, url, title, score) VALUES (%s, %s, %s, 1) RETURNING id",
                        (site, f"http://x/{name}", name))
            cur.execute("""INSERT INTO review_queue (listing_id, run_id, priority, reason)
                           SELECT %s, id, %s, %s FROM crawl_runs RETURNING id""", (cur.fetchone()[0], priority, reason))
            ids[cur.fetchone()[0]] = name
    assert claims.active_share_now(conn, 0.2, 400) == 1.0  # nothing decided yet
    assert claims.active_share_now(conn, 0.0, 400) == 0.0
    handed = set()
    for _ in range(30):  # a fixed order would hand out "top" every time: (1/2)^30 that a random draw does
        with conn:
            claimed = claims.claim_next(conn, "amina", active_share=1.0)
            handed.add(ids[claimed["queue_id"]])
            claims.release(conn, "amina")
    assert handed == {"top", "second"}
    with conn:
        assert ids[claims.claim_next(conn, "amina", active_share=0.0)["queue_id"]] == "top"
