"""Rebuild the seller networks from every stored listing's keys, keeping network ids stable."""
from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from psycopg2.extras import execute_values

from wildwatch.contacts import KINDS
from wildwatch.networks.link import link
from wildwatch.networks.photoindex import PhotoIndex
from wildwatch.photos import unsigned64

# Hamming distance of two 64-bit pHashes at or under which photos count as the same picture: the demo's
# re-encoded, resized, 4%-cropped and watermarked copies are within 10 of their original, unrelated photos
# 14 or more apart (README, "Seller networks").
PHOTO_RADIUS = 10
LOCK_KEY = 7_281_014  # one rebuild at a time (a DAG task and a CLI call may overlap)

KEYS = """
SELECT DISTINCT listing_id, link_key, kind FROM listing_contacts
UNION
SELECT id, 'seller:' || site_id || ':' || seller_account, 'seller' FROM listings WHERE seller_account IS NOT NULL
"""


def _reason(key: str, sites: list[str], value_label: dict[str, str]) -> str:
    kind, _, value = key.partition(":")
    where = " and ".join(sites) if len(sites) <= 3 else f"{len(sites)} sites"
    if kind == "seller":
        return f"same seller account {value_label.get(key, value.split(':', 1)[1])} on {where}"
    label = value_label.get(key, f"{KINDS.get(kind, kind)} {value}")
    return f"same {label} on {where}"


def rebuild(conn) -> dict:
    """Recompute every network in one transaction; returns counts (networks, listings linked, new, merged,
    dissolved, seconds)."""
    with conn, conn.cursor() as cur:
        return relink(cur)


def relink(cur) -> dict:
    """rebuild() inside the caller's transaction."""
    started = time.monotonic()
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
    cur.execute(KEYS)
    rows = cur.fetchall()
    pairs = [(listing_id, key) for listing_id, key, _ in rows]
    kinds = defaultdict(set)
    for _, key, kind in rows:
        kinds[key].add(kind)
    cur.execute("SELECT listing_id, network_id FROM network_members")
    previous = dict(cur.fetchall())
    cur.execute("SELECT coalesce(max(id), 0) + 1 FROM networks")
    next_id = cur.fetchone()[0]
    result = link(pairs, previous, next_id)
    if result.new_ids:
        execute_values(cur, "INSERT INTO networks (id) VALUES %s", [(i,) for i in result.new_ids])
        cur.execute("SELECT setval(pg_get_serial_sequence('networks', 'id'), (SELECT max(id) FROM networks))")
    cur.execute("DELETE FROM network_links")
    cur.execute("DELETE FROM network_members")
    execute_values(cur, "INSERT INTO network_members (listing_id, network_id) VALUES %s",
                   list(result.network_of.items()), page_size=5000)
    for old, new in result.merged.items():
        cur.execute("UPDATE networks SET merged_into = %s, listings = 0, updated_at = now() WHERE id = %s",
                    (new, old))
    if result.dissolved:
        cur.execute("UPDATE networks SET listings = 0, updated_at = now() WHERE id = ANY(%s) AND merged_into IS NULL",
                    (result.dissolved,))
    cur.execute("""SELECT listing_id, link_key FROM listing_contacts GROUP BY listing_id, link_key
                   HAVING bool_and(field = 'photo_text')""")
    _write_links(cur, pairs, kinds, result.network_of, set(cur.fetchall()))
    photo_links = _link_photos(cur, result.network_of)
    cur.execute("""
        UPDATE networks n SET listings = s.listings, sites = s.sites, countries = s.countries,
               months = s.months, updated_at = now(), merged_into = NULL
        FROM (SELECT m.network_id, count(*) AS listings, count(DISTINCT l.site_id) AS sites,
                     count(DISTINCT s.country) AS countries,
                     count(DISTINCT date_trunc('month', coalesce(r.period, l.first_seen_at::date))) AS months
              FROM network_members m JOIN listings l ON l.id = m.listing_id JOIN sites s ON s.id = l.site_id
              LEFT JOIN crawl_runs r ON r.id = l.first_run_id
              GROUP BY m.network_id) s
        WHERE n.id = s.network_id""")
    return {"networks": len(set(result.network_of.values())), "listings": len(result.network_of),
            "new": len(result.new_ids), "merged": len(result.merged), "dissolved": len(result.dissolved),
            "photo_links": photo_links,
            "seconds": round(time.monotonic() - started, 3)}


def _write_links(cur, pairs, kinds: dict[str, set], network_of: dict[int, int],
                 on_photos: set[tuple[int, str]] = frozenset()) -> None:
    """network_links rows: each shared key, its listings and the reason in words; a key some listing shows
    only written on a photo says so."""
    by_key: dict[str, list[int]] = defaultdict(list)
    for listing_id, key in pairs:
        if listing_id in network_of:
            by_key[key].append(listing_id)
    shared = {k: sorted(set(v)) for k, v in by_key.items() if len(set(v)) > 1}
    if not shared:
        return
    ids = sorted({i for v in shared.values() for i in v})
    cur.execute("""SELECT l.id, s.name, l.seller FROM listings l JOIN sites s ON s.id = l.site_id
                   WHERE l.id = ANY(%s)""", (ids,))
    site_of, seller_of = {}, {}
    for listing_id, site, seller in cur.fetchall():
        site_of[listing_id], seller_of[listing_id] = site, seller
    labels = {}
    for key, members in shared.items():
        if key.startswith("seller:"):
            name = next((seller_of[m] for m in members if seller_of.get(m)), None)
            labels[key] = f"'{name}'" if name else key.split(":", 2)[2]
        elif key.startswith("phone:"):
            named = sorted(KINDS[k] for k in kinds[key] if k != "phone") or ["phone"]
            labels[key] = "/".join(named) + " " + key[6:]
    rows = []
    for key, members in shared.items():
        sites = sorted({site_of[m] for m in members})
        reason = _reason(key, sites, labels)
        if any((m, key) in on_photos for m in members):
            reason += " (written on a photo)"
        rows.append((network_of[members[0]], key, members, reason))
    execute_values(cur, "INSERT INTO network_links (network_id, link_key, listing_ids, reason) VALUES %s", rows,
                   page_size=2000)


def _link_photos(cur, network_of: dict[int, int]) -> int:
    """Near-identical photos on listings not already in one network: possible links, kept apart from the
    networks (a stock photo is shared by innocent sellers)."""
    cur.execute("DELETE FROM photo_links")
    cur.execute("SELECT id, listing_id, phash FROM listing_photos WHERE phash IS NOT NULL ORDER BY id")
    rows = cur.fetchall()
    if len(rows) < 2:
        return 0
    photo_ids = np.array([r[0] for r in rows], dtype=np.int64)
    listings = np.array([r[1] for r in rows], dtype=np.int64)
    index = PhotoIndex(np.array([unsigned64(r[2]) for r in rows], dtype=np.uint64))
    best: dict[tuple[int, int], tuple[int, int, int]] = {}
    for photo_id, listing_id, phash in rows:
        found, distances = index.query(unsigned64(phash), PHOTO_RADIUS)
        for j, distance in zip(found.tolist(), distances.tolist(), strict=True):
            other = int(listings[j])
            if other == listing_id:
                continue
            mine, theirs = network_of.get(listing_id), network_of.get(other)
            if mine is not None and mine == theirs:
                continue  # already linked by a contact or an account
            a, b = sorted((listing_id, other))
            photos_ab = (photo_id, int(photo_ids[j])) if a == listing_id else (int(photo_ids[j]), photo_id)
            if (a, b) not in best or distance < best[(a, b)][2]:
                best[(a, b)] = (*photos_ab, distance)
    execute_values(cur, "INSERT INTO photo_links (listing_a, listing_b, photo_a, photo_b, distance) VALUES %s",
                   [(a, b, *v) for (a, b), v in best.items()], page_size=2000)
    return len(best)
