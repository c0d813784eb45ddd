"""`wildwatch sellers ...`: seller networks (listings linked by a shared contact or seller account)."""
from __future__ import annotations

import json
import sys

from wildwatch.commands import with_db


def cmd_link(args, settings) -> int:
    from wildwatch.networks import store

    done = with_db(settings, store.rebuild)
    print(f"{done['networks']} networks over {done['listings']} listings ({done['new']} new, {done['merged']} merged, "
          f"{done['dissolved']} dissolved) in {done['seconds']} s")
    return 0


def cmd_list(args, settings) -> int:
    from wildwatch.networks import queries

    rows = with_db(settings, lambda conn: queries.list_networks(conn, args.min_listings))
    if args.json:
        print(json.dumps(rows, default=str, indent=1, ensure_ascii=False))
        return 0
    if not rows:
        print(f"no seller networks of {args.min_listings}+ listings (`wildwatch sellers link` rebuilds them)")
        return 0
    print(f"{'id':>6}  {'listings':>8}  {'sites':>5}  {'countries':>9}  {'months':>6}  {'confirmed':>9}  platforms")
    for r in rows:
        print(f"{r['id']:>6}  {r['listings']:>8}  {r['sites']:>5}  {r['countries']:>9}  {r['months']:>6}  "
              f"{r['confirmed']:>9}  {', '.join(r['site_names'])}")
    return 0


def cmd_show(args, settings) -> int:
    from wildwatch.networks import queries

    found = with_db(settings, lambda conn: queries.network(conn, args.id))
    if found is None:
        print(f"wildwatch: no seller network {args.id}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(found, default=str, indent=1, ensure_ascii=False))
        return 0
    if found["id"] != args.id:
        print(f"network {args.id} was merged into network {found['id']}")
    print(f"network {found['id']}: {found['listings']} listings on {', '.join(found['platforms'])} "
          f"({', '.join(found['country_codes'])}), months {', '.join(found['month_list'])}")
    print("why linked:")
    for link in found["links"]:
        print(f"  {link['reason']} ({len(link['listing_ids'])} listings)")
    print("listings:")
    for m in found["members"]:
        status = m["decision"] or m["review_status"] or "not queued"
        print(f"  {m['id']:>7}  {m['site']:<10} {m['month']}  {status:<12} {m['title'][:60]}  {m['url']}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sellers", help="seller networks: listings linked by shared contacts and seller accounts")
    ssub = p.add_subparsers(dest="sellers_action", required=True)

    lk = ssub.add_parser("link", help="rebuild the networks from every stored listing (ids stay stable)")
    lk.set_defaults(func=cmd_link)

    lst = ssub.add_parser("list", help="networks, the widest (most platforms, countries, months) first")
    lst.add_argument("--min-listings", type=int, default=2)
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_list)

    sh = ssub.add_parser("show", help="one network: its listings, accounts, contacts and why they are linked")
    sh.add_argument("id", type=int)
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
