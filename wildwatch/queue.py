"""Reading the review queue."""
from __future__ import annotations


def pending(conn, limit: int | None = None, site: str | None = None) -> list[dict]:
    sql = """
        SELECT q.id AS queue_id, s.name AS site, s.country, l.language, l.title, l.url, l.price, l.currency,
               l.seller, l.score, q.queued_at,
               coalesce(array_agg(DISTINCT m.term) FILTER (WHERE m.term IS NOT NULL), '{}') AS terms,
               coalesce(array_agg(DISTINCT m.product_group) FILTER (WHERE m.term IS NOT NULL), '{}') AS groups
        FROM review_queue q
        JOIN listings l ON l.id = q.listing_id
        JOIN sites s ON s.id = l.site_id
        LEFT JOIN keyword_matches m ON m.listing_id = l.id
        WHERE q.status = 'pending' AND (%(site)s::text IS NULL OR s.name = %(site)s)
        GROUP BY q.id, s.name, s.country, l.id
        ORDER BY q.priority DESC, q.id
        LIMIT %(limit)s
    """
    with conn.cursor() as cur:
        cur.execute(sql, {"site": site, "limit": limit})
        cols = [c.name for c in cur.description]
        rows = [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    for row in rows:
        row["price"] = float(row["price"]) if row["price"] is not None else None
        row["queued_at"] = row["queued_at"].isoformat()
        row["terms"], row["groups"] = sorted(row["terms"]), sorted(row["groups"])
    return rows
