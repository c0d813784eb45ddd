"""Optional second review: a confirmation waits for another analyst; disagreements go to a supervisor and
show on the supervision page with each analyst's agreement rate."""
import re

from fastapi.testclient import TestClient

from test_review_data import _seed
from wildwatch.referrals import build
from wildwatch.review import accounts, claims, export, quality
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings
from helpers import sign_in

PASSWORD = "correct horse battery"


def take_and_decide(conn, user, decision, **kw):
    with conn:
        item = claims.claim_next(conn, user)
        assert item is not None, f"{user} got nothing"
        claims.decide(conn, item["queue_id"], user, decision, second_review=True, **kw)
    return item["queue_id"]


def status(conn, queue_id):
    with conn.cursor() as cur:
        cur.execute("SELECT status FROM review_queue WHERE id = %s", (queue_id,))
        return cur.fetchone()[0]


def test_a_confirmation_needs_a_second_analyst_and_never_the_same_one(conn):
    _seed(conn, 1)
    q = take_and_decide(conn, "amina", "confirmed", product_group="ivory")
    assert status(conn, q) == "second_review"
    with conn:
        assert claims.claim_next(conn, "amina") is None, "the first analyst never gets it back"
    assert export.confirmed(conn) == [], "not confirmed until the second review"
    assert take_and_decide(conn, "bao", "confirmed", product_group="ivory") == q
    assert status(conn, q) == "decided"
    assert [r["queue_id"] for r in export.confirmed(conn)] == [q]


def test_disagreements_go_to_a_supervisor_who_settles_them(conn):
    _seed(conn, 3)
    first = take_and_decide(conn, "amina", "confirmed")
    take_and_decide(conn, "bao", "not_wildlife")
    assert status(conn, first) == "escalated"
    legal = take_and_decide(conn, "amina", "legal")  # only confirmations are reviewed twice
    assert status(conn, legal) == "decided"
    second = take_and_decide(conn, "bao", "confirmed")
    take_and_decide(conn, "amina", "confirmed")
    assert status(conn, second) == "decided"
    with conn:
        claims.decide(conn, first, "sam", "confirmed", final=True, note="carved tusk, not resin")
    assert status(conn, first) == "decided"

    assert [(d["queue_id"], d["first"], d["second"]) for d in quality.disagreements(conn)] == \
        [(first, "confirmed", "not_wildlife")]
    rates = {a["analyst"]: (a["reviewed_twice"], a["agreed"], a["agreement_rate"])
             for a in quality.agreement_by_analyst(conn)}
    assert rates == {"amina": (2, 1, 0.5), "bao": (2, 1, 0.5)}


def test_the_supervision_page_and_settling_an_escalated_item_in_the_app(conn, database_url):
    _seed(conn, 2)
    with conn:
        for name, role in (("amina", "analyst"), ("bao", "analyst"), ("sam", "supervisor")):
            accounts.add_user(conn, name, role, PASSWORD)
    app = create_app(ReviewSettings(secret_key="x" * 40, database_url=database_url, second_review=True))

    def client(name):
        c = TestClient(app)
        sign_in(c, name, PASSWORD)
        token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)
        return c, token

    def decide(name, decision):
        c, token = client(name)
        item = c.post("/next", data={"csrf_token": token}, follow_redirects=False).headers["location"]
        assert "Decisions so far" not in c.get(item).text, "second reviews are blind"
        c.post(f"{item}/decide", data={"csrf_token": token, "decision": decision}, follow_redirects=False)
        return int(item.rsplit("/", 1)[1])

    q = decide("amina", "confirmed")
    assert decide("bao", "unsure") == q
    assert status(conn, q) == "escalated"
    analyst, _ = client("amina")
    assert analyst.get("/supervisor").status_code == 403
    sam, token = client("sam")
    page = sam.get("/supervisor").text
    assert f'href="/item/{q}"' in page and "amina: confirmed; bao: unsure" in page
    assert "<td>amina</td><td>1</td><td>0</td><td>0%</td>" in page
    item = sam.get(f"/item/{q}").text
    assert "Decisions so far" in item and "your decision settles this item" in item
    done = sam.post(f"/item/{q}/decide", data={"csrf_token": token, "decision": "confirmed"}, follow_redirects=False)
    assert done.status_code == 303 and status(conn, q) == "decided"
    with conn:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM audit_log WHERE action = 'decide' AND user_name = 'sam'")
            assert cur.fetchone()[0] == 1
        assert build.CANDIDATE_ITEMS  # referrals read the same settled status as exports
