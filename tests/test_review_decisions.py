"""Decisions as the record of evidence: once a second review, a referral or another decision depends on a
decision, its author cannot take it back; a supervisor corrects it with a new, reasoned decision that the
item's history and the referrals holding it show. Four eyes on referrals."""
import re

import pytest
from fastapi.testclient import TestClient

from helpers import sign_in
from test_review_data import _seed
from wildwatch.referrals import build
from wildwatch.review import accounts, claims, export
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"


@pytest.fixture
def team(conn, database_url, tmp_path):
    _seed(conn, 1)
    with conn:
        for name, role in (("amina", "analyst"), ("bao", "analyst"), ("sam", "supervisor"), ("lea", "supervisor")):
            accounts.add_user(conn, name, role, PASSWORD)

    def app(second_review: bool):
        return create_app(ReviewSettings(secret_key="d" * 40, database_url=database_url, second_review=second_review,
                                         evidence_dir=tmp_path / "evidence", referrals_dir=tmp_path / "referrals"))
    return app


class Person:
    def __init__(self, app, name):
        self.client = TestClient(app)
        assert sign_in(self.client, name, PASSWORD, follow_redirects=False).status_code == 303
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', self.client.get("/").text).group(1)

    def post(self, path, **data):
        return self.client.post(path, data={"csrf_token": self.token, **data}, follow_redirects=False)

    def take(self) -> int:
        return int(self.post("/next").headers["location"].rsplit("/", 1)[1])

    def decide(self, item: int, decision: str, **kw):
        return self.post(f"/item/{item}/decide", decision=decision, **kw)

    def undo(self, item: int) -> str:
        self.post(f"/item/{item}/undo")
        return self.client.get("/").text


def state(conn, item):
    with conn.cursor() as cur:
        cur.execute("SELECT status, claimed_by FROM review_queue WHERE id = %s", (item,))
        status = cur.fetchone()
        cur.execute("SELECT decided_by, decision FROM review_decisions WHERE queue_id = %s ORDER BY id", (item,))
        return status, cur.fetchall()


def test_the_first_reviewer_cannot_undo_once_a_second_reviewer_holds_or_decided_the_item(team, conn):
    app = team(second_review=True)
    amina, bao = Person(app, "amina"), Person(app, "bao")
    item = amina.take()
    amina.decide(item, "confirmed", product_group="ivory")
    assert bao.take() == item  # the second reviewer opens it, within amina's undo window
    page = amina.undo(item)
    assert "Not undone" in page and "open for its second review" in page
    assert state(conn, item) == (("claimed", "bao"), [("amina", "confirmed")])
    bao.decide(item, "confirmed", product_group="ivory")
    page = amina.undo(item)
    assert "Not undone" in page and "decided again after you" in page
    assert state(conn, item) == (("decided", "bao"), [("amina", "confirmed"), ("bao", "confirmed")])


def test_a_decision_in_a_referral_is_not_undone_and_a_correction_is_a_new_reasoned_decision(team, conn):
    app = team(second_review=False)
    amina, sam, lea = Person(app, "amina"), Person(app, "sam"), Person(app, "lea")
    item = amina.take()
    amina.decide(item, "confirmed", product_group="ivory")
    built = sam.post("/referrals", recipient_kind="platform", recipient="s", month="2026-11")
    assert built.status_code == 303, built.text
    referral = int(built.headers["location"].rsplit("/", 1)[1])
    page = amina.undo(item)  # still within the undo window, but a referral holds it
    assert "Not undone" in page and "part of a referral" in page
    assert state(conn, item)[1] == [("amina", "confirmed")]

    # Four eyes: sam built it, lea approves; then it goes out.
    assert sam.post(f"/referrals/{referral}/status", status="approved").status_code == 409
    assert lea.post(f"/referrals/{referral}/status", status="approved").status_code == 303
    assert sam.post(f"/referrals/{referral}/status", status="sent").status_code == 303

    # An analyst cannot correct; a supervisor must give a reason; the correction is a new decision.
    assert amina.post(f"/item/{item}/correct", decision="legal", reason="antique with papers").status_code == 403
    assert sam.post(f"/item/{item}/correct", decision="legal", reason="").status_code == 409
    done = sam.post(f"/item/{item}/correct", decision="legal", reason="pre-1947 antique, certificate seen")
    assert done.status_code == 303
    assert state(conn, item)[1] == [("amina", "confirmed"), ("sam", "legal")]
    history = sam.client.get(f"/item/{item}").text
    assert "(correction)" in history and "pre-1947 antique, certificate seen" in history
    shown = sam.client.get(f"/referrals/{referral}").text
    assert 'id="corrections"' in shown and "tell s about these corrections" in shown
    notice = sam.client.get(f"/referrals/{referral}/corrections.json").json()
    assert notice["amends_package_sha256"] and [(c["referred_as"], c["now"]) for c in notice["corrections"]] == \
        [("confirmed", "legal")]
    assert export.confirmed(conn) == []  # the corrected decision is the one that counts
    with conn.cursor() as cur:
        cur.execute("SELECT before, after FROM audit_log WHERE action = 'correct'")
        before, after = cur.fetchone()
    assert before["decision"] == "confirmed" and after["reason"] == "pre-1947 antique, certificate seen"
    assert after["referrals"] == [{"id": referral, "status": "sent"}]


def test_undo_still_works_while_nothing_depends_on_the_decision(team, conn):
    app = team(second_review=True)
    amina = Person(app, "amina")
    item = amina.take()
    amina.decide(item, "confirmed")
    assert "Undone" in amina.undo(item)
    assert state(conn, item) == (("claimed", "amina"), [])


def test_one_person_teams_can_turn_four_eyes_off_and_the_self_approval_is_audited(conn):
    _seed(conn, 1)
    with conn:
        item = claims.claim_next(conn, "amina")
        claims.decide(conn, item["queue_id"], "amina", "confirmed", "ivory")
        rid = build.create_or_refresh(conn, "platform", "s", "2026-11", "sam")
        with conn.cursor() as cur:
            cur.execute("UPDATE referrals SET package_sha256 = repeat('a', 64) WHERE id = %s", (rid,))
        with pytest.raises(build.ReferralError, match="another supervisor"):
            build.set_status(conn, rid, "approved", "sam")
    with conn:
        build.set_status(conn, rid, "approved", "sam", four_eyes=False)
    with conn.cursor() as cur:
        cur.execute("SELECT after->>'self_approved' FROM audit_log WHERE action = 'referral_approved'")
        assert cur.fetchone()[0] == "true"
