"""The ranker in the review app: its score and strongest features on the item page, the queue sortable by either."""
import csv
import re
from pathlib import Path

from fastapi.testclient import TestClient

from helpers import queue_decided, sign_in
from wildwatch.ranker import registry
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

DEVSET = Path(__file__).resolve().parent.parent / "keywords" / "eval" / "devset.csv"
HOSTILE = '<script>alert("x")</script> Carved ivory bangle <img src=x onerror=alert(1)>'


def test_item_page_explains_the_ranker_and_the_queue_sorts_by_either(conn, database_url):
    rows = list(csv.DictReader(DEVSET.open(encoding="utf-8")))
    queue_decided(conn, rows[:200:2])
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
