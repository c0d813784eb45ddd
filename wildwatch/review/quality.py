"""Reviewer quality for supervisors: items waiting for them, second reviews that disagreed, and how often
each analyst agrees with the other opinion on the same item."""
from __future__ import annotations

from wildwatch.db import dict_cursor

# The first two decisions on an item, when the first was a confirmation and another analyst gave the second:
# the second-review pairs.
PAIRS = """
WITH ranked AS (
    SELECT d.*, row_number() OVER (PARTITION BY d.queue_id ORDER BY d.id) AS n FROM review_decisions d
)
SELECT a.queue_id, a.decided_by AS first_by, a.decision AS first, b.decided_by AS second_by,
       b.decision AS second, b.decided_at
FROM ranked a JOIN ranked b ON b.queue_id = a.queue_id AND a.n = 1 AND b.n = 2
WHERE a.decision = 'confirmed' AND a.decided_by <> b.decided_by
"""


def escalated(conn) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute("""
            SELECT q.id AS queue_id, l.title, s.name AS site, s.country,
                   array_agg(d.decided_by || ': ' || d.decision ORDER BY d.id) AS decisions
            FROM review_queue q JOIN listings l ON l.id = q.listing_id JOIN sites s ON s.id = l.site_id
            JOIN review_decisions d ON d.queue_id = q.id
            WHERE q.status = 'escalated' GROUP BY q.id, l.id, s.id ORDER BY q.priority DESC, q.id""")
        return cur.fetchall()


def disagreements(conn, limit: int = 200) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute(f"""SELECT p.*, l.title, q.status FROM ({PAIRS}) p JOIN review_queue q ON q.id = p.queue_id
                        JOIN listings l ON l.id = q.listing_id
                        WHERE p.first <> p.second ORDER BY p.decided_at DESC LIMIT %s""", (limit,))
        return cur.fetchall()


def agreement_by_analyst(conn) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute(f"""
            WITH pairs AS ({PAIRS}),
            roles AS (SELECT first_by AS analyst, first, second FROM pairs
                      UNION ALL SELECT second_by, first, second FROM pairs)
            SELECT analyst, count(*) AS reviewed_twice, count(*) FILTER (WHERE first = second) AS agreed,
                   round(count(*) FILTER (WHERE first = second)::numeric / count(*), 3)::float AS agreement_rate
            FROM roles GROUP BY analyst ORDER BY analyst""")
        return cur.fetchall()


def decisions(conn, queue_id: int) -> list[dict]:
    with dict_cursor(conn) as cur:
        cur.execute("""SELECT decided_by, decision, product_group, species, note, decided_at, correction_of
                       FROM review_decisions WHERE queue_id = %s ORDER BY id""", (queue_id,))
        return cur.fetchall()
