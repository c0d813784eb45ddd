"""Reading seller networks: the list, one network in full, and an item's linked offers."""
from __future__ import annotations

# A decision shows only once the item is settled: while it waits for its second review, nobody (the second
# reviewer included) learns the first opinion from a network or linked-offer view, and "second review" reads
# as "pending" (only confirmations are reviewed twice, so the status alone would tell).
NETWORK_LISTINGS = """
SELECT l.id, s.name AS site, s.country, l.url, l.title, l.seller, l.seller_account, l.status,
       to_char(coalesce(r.period, l.first_seen_at::date), 'YYYY-MM') AS month,
       q.id AS queue_id, CASE WHEN q.status = 'second_review' THEN 'pending' ELSE q.status END AS review_status,
       CASE WHEN q.status = 'decided' THEN d.decision END AS decision
FROM network_members m
JOIN listings l ON l.id = m.listing_id
JOIN sites s ON s.id = l.site_id
LEFT JOIN crawl_runs r ON r.id = l.first_run_id
LEFT JOIN review_queue q ON q.listing_id = l.id
LEFT JOIN LATERAL (SELECT decision FROM review_decisions d WHERE d.listing_id = l.id
                   ORDER BY d.decided_at DESC, d.id DESC LIMIT 1) d ON true
WHERE m.network_id = %s
ORDER BY s.name, l.id
"""


def _dicts(cur) -> list[dict]:
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def list_networks(conn, min_listings: int = 2, limit: int = 500) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute("""
            SELECT n.id, n.listings, n.sites, n.countries, n.months, n.created_at, n.updated_at,
                   array_agg(DISTINCT s.name ORDER BY s.name) AS site_names,
                   array_agg(DISTINCT s.country ORDER BY s.country) AS country_codes,
                   count(DISTINCT q.listing_id) FILTER (WHERE d.decision = 'confirmed') AS confirmed
            FROM networks n
            JOIN network_members m ON m.network_id = n.id
            JOIN listings l ON l.id = m.listing_id JOIN sites s ON s.id = l.site_id
            LEFT JOIN review_queue q ON q.listing_id = l.id AND q.status = 'decided'  -- settled only: see above
            LEFT JOIN LATERAL (SELECT decision FROM review_decisions d WHERE d.queue_id = q.id
                               ORDER BY d.id DESC LIMIT 1) d ON true
            WHERE n.merged_into IS NULL AND n.listings >= %s
            GROUP BY n.id
            ORDER BY n.sites DESC, n.countries DESC, n.months DESC, n.listings DESC, n.id
            LIMIT %s""", (min_listings, limit))
        return _dicts(cur)


def resolve(conn, network_id: int) -> int | None:
    """The network an id names now: a network merged into another answers with the one that took it."""
    with conn.cursor() as cur:
        for _ in range(100):
            cur.execute("SELECT merged_into FROM networks WHERE id = %s", (network_id,))
            row = cur.fetchone()
            if row is None:
                return None
            if row[0] is None:
                return network_id
            network_id = row[0]
    return network_id


def network(conn, network_id: int) -> dict | None:
    current = resolve(conn, network_id)
    if current is None:
        return None
    with conn.cursor() as cur:
        cur.execute("SELECT id, listings, sites, countries, months, created_at, updated_at FROM networks WHERE id = %s",
                    (current,))
        head = _dicts(cur)[0]
        cur.execute(NETWORK_LISTINGS, (current,))
        head["members"] = _dicts(cur)
        cur.execute("SELECT link_key, listing_ids, reason FROM network_links WHERE network_id = %s ORDER BY reason",
                    (current,))
        head["links"] = _dicts(cur)
        ids = [m["id"] for m in head["members"]]
        cur.execute("""SELECT DISTINCT kind, value FROM listing_contacts WHERE listing_id = ANY(%s)
                       ORDER BY kind, value""", (ids,))
        head["contacts"] = _dicts(cur)
    head["asked_for"] = network_id
    head["accounts"] = sorted({f"{m['site']} {m['seller_account']}" for m in head["members"] if m["seller_account"]})
    head["platforms"] = sorted({m["site"] for m in head["members"]})
    head["country_codes"] = sorted({m["country"] for m in head["members"]})
    head["month_list"] = sorted({m["month"] for m in head["members"]})
    return head


def linked_offers(conn, listing_id: int) -> list[dict]:
    """The other listings of this listing's network, each with why it is linked to this one."""
    with conn.cursor() as cur:
        cur.execute("SELECT network_id FROM network_members WHERE listing_id = %s", (listing_id,))
        row = cur.fetchone()
        if row is None:
            return []
        cur.execute(NETWORK_LISTINGS, (row[0],))
        members = [m for m in _dicts(cur) if m["id"] != listing_id]
        cur.execute("SELECT listing_ids, reason FROM network_links WHERE network_id = %s", (row[0],))
        links = cur.fetchall()
    for m in members:
        direct = [reason for ids, reason in links if listing_id in ids and m["id"] in ids]
        m["reasons"] = direct or ["same network (through other listings)"]
        m["network_id"] = row[0]
    return members
