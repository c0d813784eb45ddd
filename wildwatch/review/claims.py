"""Taking work from the review queue: one analyst per item, through leases that run out."""
from __future__ import annotations

import random

from wildwatch.ranker import policy
from wildwatch.review import repository
from wildwatch.review.audit import record

DECISIONS = ("confirmed", "legal", "not_wildlife", "unsure")


def classified(decision: str, product_group: str | None, species: str | None) -> tuple[str | None, str | None]:
    """A listing decided not wildlife has no product group or species, whatever the form still held (the
    item page pre-fills the matcher's group): it would count as, say, a big-cat non-offer in reports."""
    return (None, None) if decision == "not_wildlife" else (product_group or None, species or None)
DEFAULT_LEASE_S = 15 * 60


class ClaimError(RuntimeError):
    pass


def active_share_now(conn, floor: float, young: int) -> float:
    """The share of claims that are active picks now (ranker/policy.py), by the decisions taken so far: what the
    next model will learn from (an item decided is settled; one an analyst was unsure of is escalated)."""
    if floor <= 0:
        return 0.0
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM review_queue WHERE status = 'decided'")
        decided = cur.fetchone()[0]
    return policy.active_share(floor, young, decided)


def claim_next(conn, user: str, lease_s: int = DEFAULT_LEASE_S, active_share: float = 0.0,
               **filters) -> dict | None:
    """The highest-priority item nobody holds (pending, or claimed with an expired lease), leased to `user`,
    among those the queue filters select (repository.FILTERS). FOR UPDATE SKIP LOCKED: two analysts asking at
    once get two different items.

    With `active_share`, that share of claims (drawn at random) hands out instead the queued item the active
    model is least sure of (its score nearest 0.5; before a first model, a queued item at random): what the next
    model learns most from (active_share_now gives the share for the decisions so far). Only queued offers:
    the blind audit sample stays a random draw of what was not queued, so the missed-offer estimate stays
    unbiased; and the analyst is not told (the audit trail is)."""
    active = active_share > 0 and random.random() < active_share
    with conn.cursor() as cur:
        # Leases that ran out go back first (to pending, or to second review when someone decided already),
        # so the claim below scans one index instead of OR-ing two conditions over the whole queue.
        cur.execute("""
            WITH expired AS (SELECT id, claimed_by FROM review_queue
                             WHERE status = 'claimed' AND lease_expires_at < now() FOR UPDATE SKIP LOCKED)
            UPDATE review_queue q SET status = CASE WHEN EXISTS (SELECT 1 FROM review_decisions d
                                                                 WHERE d.queue_id = q.id)
                                               THEN 'second_review' ELSE 'pending' END,
                                      claimed_by = NULL, lease_expires_at = NULL
            FROM expired e WHERE q.id = e.id
            RETURNING q.id, e.claimed_by, q.status""")
        for expired_id, holder, back_to in cur.fetchall():
            record(conn, "system", "lease_expired", "review_queue", expired_id,
                   {"status": "claimed", "claimed_by": holder}, {"status": back_to})
        cur.execute("""
            SELECT q.id, q.listing_id, q.status, q.claimed_by FROM review_queue q
            JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
            WHERE q.status IN ('pending', 'second_review')
              -- a second review is never done by the analyst who gave the first
              AND NOT EXISTS (SELECT 1 FROM review_decisions d WHERE d.queue_id = q.id AND d.decided_by = %(user)s)
              AND """ + repository.FILTER_SQL + """
            ORDER BY """ + ("""q.status = 'pending' AND q.reason <> 'audit' DESC,
                               CASE WHEN l.rank_model IS NOT NULL THEN abs(l.rank_score - 0.5) END NULLS LAST,
                               random(), """ if active else "") + """q.priority DESC, q.id
            LIMIT 1
            FOR UPDATE OF q SKIP LOCKED""", {**repository.filter_params(**filters), "user": user})
        row = cur.fetchone()
        if row is None:
            return None
        queue_id, listing_id, status, previous_holder = row
    lease = _lease(conn, queue_id, user, lease_s, status, previous_holder, picked="active" if active else None)
    return {"queue_id": queue_id, "listing_id": listing_id, "lease_expires_at": lease}


def _lease(conn, queue_id: int, user: str, lease_s: int, status: str, holder: str | None, picked: str | None = None):
    """The item leased to `user` (its row already locked by the caller), audited as a claim; the lease's end."""
    with conn.cursor() as cur:
        cur.execute("""UPDATE review_queue SET status = 'claimed', claimed_by = %s, claimed_at = now(),
                           lease_expires_at = now() + make_interval(secs => %s)
                       WHERE id = %s RETURNING lease_expires_at""", (user, lease_s, queue_id))
        lease = cur.fetchone()[0]
    record(conn, user, "claim", "review_queue", queue_id, {"status": status, "claimed_by": holder},
           {"status": "claimed", "claimed_by": user, "lease_expires_at": lease, **({"picked": picked} if picked else {})})
    return lease


def _next_status(decision: str, earlier: list[str], second_review: bool, final: bool) -> str:
    """Where an item goes after this decision. `earlier`: the item's previous decisions, oldest first."""
    if final:
        return "escalated" if decision == "unsure" else "decided"  # a supervisor settling an escalated item
    if decision == "unsure":
        return "escalated"
    if second_review and earlier:
        return "decided" if decision == earlier[-1] else "escalated"  # the second opinion agrees, or not
    if second_review and decision == "confirmed":
        return "second_review"
    return "decided"


def decide(conn, queue_id: int, user: str, decision: str, product_group: str | None = None,
           species: str | None = None, note: str | None = None, second_review: bool = False,
           final: bool = False) -> int:
    """Record a decision on an item the user holds (with a live lease). With second review on, a confirmation
    waits for another analyst; two different answers go to a supervisor, whose decision (final) settles it."""
    if decision not in DECISIONS:
        raise ClaimError(f"decision must be one of {', '.join(DECISIONS)}")
    with conn.cursor() as cur:
        cur.execute("""SELECT listing_id, status, claimed_by, lease_expires_at > now() FROM review_queue
                       WHERE id = %s FOR UPDATE""", (queue_id,))
        row = cur.fetchone()
        if row is None:
            raise ClaimError(f"no queue item {queue_id}")
        listing_id, status, holder, live = row
        settling = final and status == "escalated"  # supervisors settle escalated items without a lease
        if not settling and (status != "claimed" or holder != user or not live):
            raise ClaimError(f"item {queue_id} is not held by {user} (status {status}, holder {holder})")
        product_group, species = classified(decision, product_group, species)
        cur.execute("""INSERT INTO review_decisions (queue_id, listing_id, decision, product_group, species, note,
                                                    decided_by)
                       VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                    (queue_id, listing_id, decision, product_group, species, note, user))
        decision_id = cur.fetchone()[0]
        cur.execute("SELECT decision FROM review_decisions WHERE queue_id = %s AND id < %s ORDER BY id",
                    (queue_id, decision_id))
        new_status = _next_status(decision, [r[0] for r in cur.fetchall()], second_review, final)
        # Waiting for its second review, the item names nobody: the second reviewer must not learn the first.
        cur.execute("""UPDATE review_queue SET status = %s, lease_expires_at = NULL,
                           claimed_by = CASE WHEN %s = 'second_review' THEN NULL ELSE claimed_by END
                       WHERE id = %s""", (new_status, new_status, queue_id))
    record(conn, user, "decide", "review_queue", queue_id, {"status": status},
           {"status": new_status, "decision": decision, "product_group": product_group, "species": species,
            "note": note})
    return decision_id


def latest_decision(conn, queue_id: int, user: str) -> str | None:
    """The user's own latest decision on an item, if any."""
    with conn.cursor() as cur:
        cur.execute("""SELECT decision FROM review_decisions WHERE queue_id = %s AND decided_by = %s
                       ORDER BY id DESC LIMIT 1""", (queue_id, user))
        row = cur.fetchone()
    return row[0] if row else None


def _back_to(cur, queue_id: int) -> str:
    """Where an item goes when its holder lets go: second review when someone decided on it already."""
    cur.execute("SELECT EXISTS (SELECT 1 FROM review_decisions WHERE queue_id = %s)", (queue_id,))
    return "second_review" if cur.fetchone()[0] else "pending"


def release(conn, user: str, queue_id: int | None = None, keep: int | None = None) -> list[int]:
    """Let go of items the user holds (one, or all but `keep`): an analyst who walks away from an item does
    not keep it from the others for the rest of the lease. Returns the items released."""
    released = []
    with conn.cursor() as cur:
        cur.execute("""SELECT id FROM review_queue WHERE status = 'claimed' AND claimed_by = %s
                         AND (%s::bigint IS NULL OR id = %s) AND (%s::bigint IS NULL OR id <> %s)
                       ORDER BY id FOR UPDATE""", (user, queue_id, queue_id, keep, keep))
        for (item,) in cur.fetchall():
            status = _back_to(cur, item)
            cur.execute("""UPDATE review_queue SET status = %s, claimed_by = NULL, lease_expires_at = NULL
                           WHERE id = %s""", (status, item))
            record(conn, user, "release", "review_queue", item, {"status": "claimed", "claimed_by": user},
                   {"status": status})
            released.append(item)
    return released


def undo(conn, queue_id: int, user: str, window_s: int, lease_s: int = DEFAULT_LEASE_S) -> str:
    """Withdraw the user's decision on an item: only their latest one, within `window_s` seconds, and only
    while nothing depends on it: no one else has decided the item since or holds it for a second review, and
    it is in no referral. The item is theirs again to decide (whatever else they held is let go); the audit
    log keeps what was withdrawn. Past that point a change is a supervisor's correction (`correct`)."""
    with conn.cursor() as cur:
        # The item's row first: a second reviewer deciding at this moment waits for this check, or it for them.
        cur.execute("SELECT status, claimed_by FROM review_queue WHERE id = %s FOR UPDATE", (queue_id,))
        item = cur.fetchone()
        cur.execute("""SELECT id, queue_id, decision, product_group, species, note,
                              decided_at > now() - make_interval(secs => %s)
                       FROM review_decisions WHERE decided_by = %s ORDER BY id DESC LIMIT 1""", (window_s, user))
        row = cur.fetchone()
        if item is None or row is None or row[1] != queue_id:
            raise ClaimError(f"only your latest decision can be undone, and item {queue_id} is not it")
        decision_id, _, decision, group, species, note, recent = row
        status, holder = item
        if not recent:
            raise ClaimError(f"the {window_s} s to undo the decision on item {queue_id} have passed")
        cur.execute("SELECT 1 FROM review_decisions WHERE queue_id = %s AND id > %s", (queue_id, decision_id))
        if cur.fetchone():
            raise ClaimError(f"item {queue_id} was decided again after you (a second review or a supervisor): "
                             "a supervisor can correct it")
        if status == "claimed" and holder != user:
            raise ClaimError(f"item {queue_id} is open for its second review")
        cur.execute("""SELECT 1 FROM referral_items ri JOIN review_queue q ON q.listing_id = ri.listing_id
                       WHERE q.id = %s""", (queue_id,))
        if cur.fetchone():
            raise ClaimError(f"item {queue_id} is already part of a referral: a supervisor can correct it")
        cur.execute("DELETE FROM review_decisions WHERE id = %s", (decision_id,))
        cur.execute("""UPDATE review_queue SET status = 'claimed', claimed_by = %s, claimed_at = now(),
                           lease_expires_at = now() + make_interval(secs => %s) WHERE id = %s""",
                    (user, lease_s, queue_id))
    release(conn, user, keep=queue_id)
    record(conn, user, "undo", "review_queue", queue_id,
           {"status": status, "decision": decision, "product_group": group, "species": species, "note": note},
           {"status": "claimed", "claimed_by": user})
    return decision


def correct(conn, queue_id: int, supervisor: str, decision: str, reason: str, product_group: str | None = None,
            species: str | None = None) -> dict:
    """A supervisor's correction of a settled item: a new decision with its reason, never an edit of the old
    one. Returns what changed and the referrals (already sent or not) the listing is part of."""
    if decision not in DECISIONS or decision == "unsure":
        raise ClaimError("a correction is confirmed, legal or not wildlife")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise ClaimError("a correction needs its reason")
    with conn.cursor() as cur:
        cur.execute("SELECT listing_id, status FROM review_queue WHERE id = %s FOR UPDATE", (queue_id,))
        row = cur.fetchone()
        if row is None:
            raise ClaimError(f"no queue item {queue_id}")
        listing_id, status = row
        cur.execute("""SELECT decision, product_group, decided_by FROM review_decisions WHERE queue_id = %s
                       ORDER BY id DESC LIMIT 1""", (queue_id,))
        before = cur.fetchone()
        if status != "decided" or before is None:
            raise ClaimError(f"item {queue_id} is not settled (status {status}): decide it as usual")
        product_group, species = classified(decision, product_group, species)
        cur.execute("""INSERT INTO review_decisions (queue_id, listing_id, decision, product_group, species, note,
                                                    decided_by, correction_of)
                       SELECT %s, %s, %s, %s, %s, %s, %s, max(id) FROM review_decisions WHERE queue_id = %s
                       RETURNING id""",
                    (queue_id, listing_id, decision, product_group, species, reason, supervisor, queue_id))
        decision_id = cur.fetchone()[0]
        cur.execute("""SELECT r.id, r.status FROM referral_items ri JOIN referrals r ON r.id = ri.referral_id
                       WHERE ri.listing_id = %s ORDER BY r.id""", (listing_id,))
        referrals = [{"id": r, "status": s} for r, s in cur.fetchall()]
    record(conn, supervisor, "correct", "review_queue", queue_id,
           {"decision": before[0], "product_group": before[1], "decided_by": before[2]},
           {"decision": decision, "product_group": product_group, "species": species, "reason": reason,
            "decision_id": decision_id, "referrals": referrals})
    return {"decision_id": decision_id, "before": before[0], "referrals": referrals}


def claim_item(conn, queue_id: int, user: str, lease_s: int = DEFAULT_LEASE_S) -> bool:
    """Lease one given item to the user, if it is free for them (waiting, never decided by them) or theirs."""
    with conn.cursor() as cur:
        cur.execute("""SELECT status, claimed_by, lease_expires_at > now(),
                              EXISTS (SELECT 1 FROM review_decisions d WHERE d.queue_id = q.id AND d.decided_by = %s)
                       FROM review_queue q WHERE id = %s FOR UPDATE""", (user, queue_id))
        row = cur.fetchone()
        if row is None:
            return False
        status, holder, live, decided_by_me = row
        if status == "claimed" and holder == user and live:
            return True
        free = status in ("pending", "second_review") or (status == "claimed" and not live)
        if not free or decided_by_me:
            return False
    _lease(conn, queue_id, user, lease_s, status, holder)
    return True


def decide_group(conn, queue_ids: list[int], user: str, decision: str, product_group: str | None = None,
                 species: str | None = None, note: str | None = None, second_review: bool = False,
                 lease_s: int = DEFAULT_LEASE_S) -> tuple[list[int], list[int]]:
    """One decision for a group of near-identical items the analyst has seen: each item free for them is
    claimed and decided on its own (its own decision and audit rows). Returns (decided, skipped)."""
    decided, skipped = [], []
    for queue_id in queue_ids:
        if claim_item(conn, queue_id, user, lease_s):
            decide(conn, queue_id, user, decision, product_group, species, note, second_review=second_review)
            decided.append(queue_id)
        else:
            skipped.append(queue_id)
    return decided, skipped
