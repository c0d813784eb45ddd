"""Building a referral: the confirmed items it covers (each listing referred once per recipient), then
its package. A draft is rebuilt in place, so assembling the same month twice changes nothing."""
from __future__ import annotations

import datetime as dt

from wildwatch.db import dict_cursor
from wildwatch.review import audit

STATUSES = ("draft", "approved", "sent", "acknowledged", "closed")
# Which status may follow which; "draft" again from approved is a rejected or withdrawn package.
TRANSITIONS = {"draft": {"approved"}, "approved": {"sent", "draft"}, "sent": {"acknowledged", "closed"},
               "acknowledged": {"closed"}, "closed": set()}


class ReferralError(ValueError):
    pass


def month_start(month: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise ReferralError(f"month must be YYYY-MM, got {month!r}") from exc


# The latest decision on a settled item (not one waiting for its second review) decides; a listing already
# in a referral to the same recipient (other than this draft) is not referred again.
CANDIDATE_ITEMS = """
SELECT q.listing_id, d.id AS decision_id
FROM review_queue q
JOIN LATERAL (SELECT * FROM review_decisions d WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1) d ON true
JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id JOIN crawl_runs r ON r.id = q.run_id
WHERE d.decision = 'confirmed' AND q.status = 'decided' AND r.period = %(period)s
  AND (%(kind)s <> 'platform' OR s.name = %(recipient)s)
  AND (%(country)s::text IS NULL OR s.country = %(country)s)
  AND NOT EXISTS (SELECT 1 FROM referral_items ri JOIN referrals f ON f.id = ri.referral_id
                  WHERE ri.listing_id = q.listing_id AND f.recipient_kind = %(kind)s
                    AND f.recipient = %(recipient)s AND f.id <> %(draft)s)
ORDER BY q.listing_id
"""


def _draft(cur, kind, recipient, period, country) -> int | None:
    cur.execute("""SELECT id FROM referrals WHERE recipient_kind = %s AND recipient = %s AND period = %s
                     AND country IS NOT DISTINCT FROM %s AND status = 'draft' ORDER BY id LIMIT 1""",
                (kind, recipient, period, country))
    row = cur.fetchone()
    return row["id"] if row else None


def create_or_refresh(conn, kind: str, recipient: str, month: str, user: str, country: str | None = None,
                      dag_run_id: str | None = None) -> int | None:
    """The draft referral for this recipient and month with every confirmed item not yet referred to it;
    None when there is nothing to refer."""
    if kind not in ("platform", "agency"):
        raise ReferralError("recipient kind is platform or agency")
    if not recipient.strip():
        raise ReferralError("recipient is required")
    if kind == "agency" and not country:
        raise ReferralError("an agency referral needs a country")
    period = month_start(month)
    with dict_cursor(conn) as cur:
        if kind == "platform":
            cur.execute("SELECT 1 FROM sites WHERE name = %s", (recipient,))
            if cur.fetchone() is None:
                raise ReferralError(f"no platform (site) named {recipient!r}")
        draft = _draft(cur, kind, recipient, period, country)
        cur.execute(CANDIDATE_ITEMS, {"period": period, "kind": kind, "recipient": recipient,
                                      "country": country, "draft": draft or 0})
        items = cur.fetchall()
        if not items and draft is None:
            return None
        if draft is None:
            cur.execute("""INSERT INTO referrals (recipient_kind, recipient, period, country, created_by, dag_run_id)
                           VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                        (kind, recipient, period, country, user, dag_run_id))
            draft = cur.fetchone()["id"]
            audit.record(conn, user, "referral_create", "referral", draft, None,
                         {"recipient_kind": kind, "recipient": recipient, "month": month, "country": country})
        cur.execute("DELETE FROM referral_items WHERE referral_id = %s", (draft,))
        for row in items:
            cur.execute("INSERT INTO referral_items (referral_id, listing_id, decision_id) VALUES (%s, %s, %s)",
                        (draft, row["listing_id"], row["decision_id"]))
        cur.execute("UPDATE referrals SET updated_at = now(), dag_run_id = coalesce(%s, dag_run_id) WHERE id = %s",
                    (dag_run_id, draft))
    return draft


NETWORK_ITEMS = """
SELECT q.listing_id, d.id AS decision_id
FROM network_members m
JOIN review_queue q ON q.listing_id = m.listing_id
JOIN LATERAL (SELECT * FROM review_decisions d WHERE d.queue_id = q.id ORDER BY d.id DESC LIMIT 1) d ON true
WHERE m.network_id = %s AND d.decision = 'confirmed' AND q.status = 'decided'
ORDER BY q.listing_id
"""


def create_for_network(conn, network_id: int, agency: str, country: str, user: str) -> int:
    """A draft agency referral of one seller network: its confirmed listings as items; the package carries the
    whole network (every member's evidence and photos, its contacts and links). Audited: it holds personal data."""
    from wildwatch.networks import queries

    agency, country = agency.strip()[:200], (country or "").strip().upper()[:2]
    if not agency or len(country) != 2:
        raise ReferralError("a network referral needs the agency's name and its country (two letters)")
    current = queries.resolve(conn, network_id)
    if current is None:
        raise ReferralError(f"no seller network {network_id}")
    with dict_cursor(conn) as cur:
        cur.execute(NETWORK_ITEMS, (current,))
        items = cur.fetchall()
        if not items:
            raise ReferralError(f"network {current} has no confirmed offer to refer")
        cur.execute("""SELECT max(coalesce(r.period, date_trunc('month', l.first_seen_at)::date)) AS period
                       FROM network_members m JOIN listings l ON l.id = m.listing_id
                       LEFT JOIN crawl_runs r ON r.id = l.last_run_id WHERE m.network_id = %s""", (current,))
        period = cur.fetchone()["period"]
        cur.execute("""SELECT id FROM referrals WHERE network_id = %s AND recipient = %s AND status = 'draft'
                       ORDER BY id LIMIT 1""", (current, agency))
        found = cur.fetchone()
        if found:
            draft = found["id"]
        else:
            cur.execute("""INSERT INTO referrals (recipient_kind, recipient, period, country, created_by, network_id)
                           VALUES ('agency', %s, %s, %s, %s, %s) RETURNING id""",
                        (agency, period, country, user, current))
            draft = cur.fetchone()["id"]
            audit.record(conn, user, "referral_create", "referral", draft, None,
                         {"recipient_kind": "agency", "recipient": agency, "network": current, "country": country})
        cur.execute("DELETE FROM referral_items WHERE referral_id = %s", (draft,))
        for row in items:
            cur.execute("INSERT INTO referral_items (referral_id, listing_id, decision_id) VALUES (%s, %s, %s)",
                        (draft, row["listing_id"], row["decision_id"]))
    return draft


def set_status(conn, referral_id: int, status: str, user: str, four_eyes: bool = True) -> dict:
    """Moves a referral on. Approval is by a supervisor other than the one who built it (four eyes), unless
    the team has turned that off (one-person teams): then the approval is audited as self-approved."""
    with dict_cursor(conn) as cur:
        cur.execute("SELECT id, status, package_sha256, created_by FROM referrals WHERE id = %s FOR UPDATE",
                    (referral_id,))
        row = cur.fetchone()
        if row is None:
            raise ReferralError(f"no referral {referral_id}")
        if status not in TRANSITIONS[row["status"]]:
            raise ReferralError(f"referral {referral_id} is {row['status']}; it cannot become {status}")
        if status == "approved" and not row["package_sha256"]:
            raise ReferralError(f"referral {referral_id} has no package yet")
        self_approved = status == "approved" and row["created_by"] == user
        if self_approved and four_eyes:
            raise ReferralError(f"referral {referral_id} was built by {user}: another supervisor approves it")
        cur.execute("""UPDATE referrals SET status = %s, updated_at = now(),
                           sent_at = CASE WHEN %s = 'sent' THEN now() ELSE sent_at END,
                           approved_by = CASE WHEN %s = 'approved' THEN %s
                                              WHEN %s = 'draft' THEN NULL ELSE approved_by END
                       WHERE id = %s RETURNING status, sent_at, approved_by""",
                    (status, status, status, user, status, referral_id))
        after = cur.fetchone()
    audit.record(conn, user, f"referral_{status}", "referral", referral_id, {"status": row["status"]},
                 {**after, **({"self_approved": True} if self_approved else {})})
    return after


def corrections(conn, referral_id: int) -> list[dict]:
    """Items of the referral whose decision a supervisor corrected after the referral took them: what the
    recipient must be told when the referral has gone out."""
    with dict_cursor(conn) as cur:
        cur.execute("""
            SELECT l.id AS listing_id, l.title, taken.decision AS referred_as, d.decision, d.product_group,
                   d.decided_by, d.decided_at, d.note AS reason
            FROM referral_items ri JOIN review_decisions taken ON taken.id = ri.decision_id
            JOIN listings l ON l.id = ri.listing_id
            JOIN review_decisions d ON d.queue_id = taken.queue_id AND d.id > taken.id AND d.correction_of IS NOT NULL
            WHERE ri.referral_id = %s ORDER BY d.id""", (referral_id,))
        return cur.fetchall()


def items(conn, referral_id: int) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute("""
            SELECT l.id AS listing_id, s.name AS platform, s.country, l.url, l.external_id, l.title, l.price,
                   l.currency, l.seller, l.location, l.first_seen_at, l.last_seen_at, l.status AS listing_status,
                   l.gone_at, l.gone_reason, d.product_group, d.species, d.decided_by, d.decided_at, d.note
            FROM referral_items ri JOIN listings l ON l.id = ri.listing_id JOIN sites s ON s.id = l.site_id
            JOIN review_decisions d ON d.id = ri.decision_id
            WHERE ri.referral_id = %s ORDER BY l.id""", (referral_id,))
        return cur.fetchall()


def get(conn, referral_id: int) -> dict | None:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT f.*, (SELECT count(*) FROM referral_items ri WHERE ri.referral_id = f.id) AS n_items
                       FROM referrals f WHERE f.id = %s""", (referral_id,))
        return cur.fetchone()


def listing(conn, status: str | None = None) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT f.*, (SELECT count(*) FROM referral_items ri WHERE ri.referral_id = f.id) AS n_items
                       FROM referrals f WHERE %(s)s::text IS NULL OR f.status = %(s)s
                       ORDER BY f.period DESC, f.id DESC""", {"s": status})
        return cur.fetchall()
