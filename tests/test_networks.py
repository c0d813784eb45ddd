"""Seller networks on a real PostgreSQL: listings linked by shared contacts and seller accounts, stable ids,
reasons, and the `wildwatch sellers` commands."""
import json

from helpers import seed_site_and_run, store_with_contacts
from wildwatch import cli
from wildwatch.networks import link, queries, store


def add(conn, site_id, run_id, url, title, description="", seller=None, account=None, region="TZ", language="sw"):
    return store_with_contacts(conn, site_id, run_id, url, title, description, seller, account, region, language)


def network_sets(conn) -> list[set[int]]:
    with conn.cursor() as cur:
        cur.execute("SELECT array_agg(listing_id ORDER BY listing_id) FROM network_members GROUP BY network_id")
        return sorted((set(r[0]) for r in cur.fetchall()), key=min)


def sites_and_run(conn):
    with conn, conn.cursor() as cur:
        tz, run = seed_site_and_run(cur, "demo_tz", "TZ", "sw")
        cur.execute("INSERT INTO sites (name, country, languages, base_url) VALUES ('demo_cm', 'CM', '{fr}', 'http://y')"
                    " RETURNING id")
        return tz, cur.fetchone()[0], run


def test_shared_contacts_and_accounts_link_listings_across_platforms_and_name_twins_do_not(conn):
    tz, cm, run = sites_and_run(conn)
    a = add(conn, tz, run, "http://x/1", "Pembe za ndovu", "WhatsApp 0712 345 678", "Juma", "/seller/u1")
    b = add(conn, tz, run, "http://x/2", "Pembe", "simu: sifuri saba moja mbili tatu nne tano sita saba nane", "Baraka",
            "/seller/u2")
    c = add(conn, cm, run, "http://y/3", "Défense d'éléphant", "WhatsApp +255 712 345 678", "Paul", "/seller/c9",
            region="CM", language="fr")
    d = add(conn, tz, run, "http://x/4", "Carved bangle", "no contact", "Baraka", "/seller/u2")  # same account as b
    e = add(conn, tz, run, "http://x/5", "Ivory dress", "Bei 450000, 2026-11-03", "Juma", "/seller/u7")  # name twin of a
    f = add(conn, cm, run, "http://y/6", "Peau", "mail: paul (at) mail dot com", "Paul", "/seller/c8",
            region="CM", language="fr")  # same display name as c on the same site, another account
    done = store.rebuild(conn)
    assert network_sets(conn) == [{a, b, c, d}]
    assert done["networks"] == 1 and done["listings"] == 4 and e and f
    (only,) = queries.list_networks(conn)
    assert (only["listings"], only["sites"], only["countries"]) == (4, 2, 2)
    found = queries.network(conn, only["id"])
    reasons = sorted(link_["reason"] for link_ in found["links"])
    assert reasons == ["same WhatsApp +255712345678 on demo_cm and demo_tz", "same seller account 'Baraka' on demo_tz"]
    linked = {m["id"]: m["reasons"] for m in queries.linked_offers(conn, a)}
    assert linked[c] == ["same WhatsApp +255712345678 on demo_cm and demo_tz"]
    assert linked[d] == ["same network (through other listings)"]


def test_network_ids_stay_stable_as_networks_grow_and_merge(conn):
    tz, cm, run = sites_and_run(conn)
    a = add(conn, tz, run, "http://x/1", "a", "WhatsApp 0712 345 678")
    b = add(conn, tz, run, "http://x/2", "b", "simu 0712345678")
    c = add(conn, tz, run, "http://x/3", "c", "WeChat: laozhang_888", region="CN", language="zh")
    d = add(conn, tz, run, "http://x/4", "d", "V信 LaoZhang_888", region="CN", language="zh")
    store.rebuild(conn)
    first = {frozenset(s): _network_of(conn, min(s)) for s in network_sets(conn)}
    phone_net, wechat_net = first[frozenset({a, b})], first[frozenset({c, d})]
    # next month: a new listing joins the phone network, and one carries both contacts (the networks merge)
    e = add(conn, tz, run, "http://x/5", "e", "call 0.7.1.2.3.4.5.6.7.8")
    store.rebuild(conn)
    assert _network_of(conn, e) == phone_net
    f = add(conn, tz, run, "http://x/6", "f", "WhatsApp 0712345678 or wechat: laozhang_888")
    store.rebuild(conn)
    older, newer = sorted([phone_net, wechat_net])
    assert {_network_of(conn, x) for x in (a, b, c, d, e, f)} == {older}
    assert queries.resolve(conn, newer) == older  # an old reference still finds its listings
    assert store.rebuild(conn)["new"] == 0  # rebuilding again changes nothing


def _network_of(conn, listing_id):
    with conn.cursor() as cur:
        cur.execute("SELECT network_id FROM network_members WHERE listing_id = %s", (listing_id,))
        row = cur.fetchone()
        return row and row[0]


def test_link_keeps_the_biggest_part_of_a_split_network_under_its_id():
    before = {1: 7, 2: 7, 3: 7, 4: 7, 5: 7}
    # listings 4 and 5 lost the contact that tied them to 1-3 (their text changed)
    result = link.link([(1, "k"), (2, "k"), (3, "k"), (4, "j"), (5, "j")], before, next_id=8)
    assert result.network_of == {1: 7, 2: 7, 3: 7, 4: 8, 5: 8} and result.new_ids == [8]


def test_sellers_commands_list_and_show_networks(conn, database_url, capsys):
    tz, cm, run = sites_and_run(conn)
    add(conn, tz, run, "http://x/1", "Pembe", "WhatsApp 0712 345 678")
    add(conn, cm, run, "http://y/2", "Ivoire", "WhatsApp +255712345678", region="CM", language="fr")
    assert cli.main(["sellers", "link"]) == 0
    assert "1 networks over 2 listings" in capsys.readouterr().out
    assert cli.main(["sellers", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["site_names"] == ["demo_cm", "demo_tz"]
    assert cli.main(["sellers", "list", "--min-listings", "3"]) == 0
    assert "no seller networks of 3+ listings" in capsys.readouterr().out
    assert cli.main(["sellers", "show", str(row["id"])]) == 0
    out = capsys.readouterr().out
    assert "same WhatsApp +255712345678 on demo_cm and demo_tz" in out and "http://y/2" in out
    assert cli.main(["sellers", "show", str(row["id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [c["value"] for c in shown["contacts"]] == ["+255712345678", "+255712345678"]
    assert cli.main(["sellers", "show", "999"]) == 1
