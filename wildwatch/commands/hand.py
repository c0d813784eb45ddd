"""`wildwatch capture ...` (an offer found by hand) and `wildwatch platforms ...` (the platforms without a
site file that finds by hand come from)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from wildwatch.commands import fail, who, with_db


def cmd_capture(args, settings) -> int:
    from wildwatch.evidence.store import open_store
    from wildwatch.hand import fetch, files, ingest

    if not (args.url or args.file or args.text):
        return fail("give the page's --url, a saved --file, or the post's --text")
    try:
        seen = dt.date.fromisoformat(args.seen) if args.seen else None
    except ValueError:
        return fail("--seen is a date, YYYY-MM-DD")
    find = ingest.Find(platform=args.platform, country=args.country, found_by=who(args), url=args.url,
                       title=args.title, text=args.text or "", seller=args.seller, price=args.price,
                       currency=args.currency, seen_on=seen)
    try:
        if args.file:
            path = Path(args.file)
            if path.stat().st_size > files.MAX_UPLOAD:
                return fail(f"{path.name}: the file is over {files.MAX_UPLOAD // (1024 * 1024)} MB")
            find.upload, find.file_name = files.read(path.read_bytes()), path.name
        elif args.url:
            page, fields, shot = fetch.fetch(args.url, with_screenshot=not args.no_screenshot)
            find.page_capture, find.screenshot, find.url = page, shot, page.url
            find.title = find.title or fields.get("title")
            find.text = find.text or fields.get("description") or ""
            find.seller = find.seller or fields.get("seller")
            find.price = find.price or fields.get("price")
            find.currency = find.currency or fields.get("currency")
    except files.UploadRefused as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"{args.file}: {exc.strerror or exc}")

    def store(conn):
        with conn:
            return ingest.add(conn, find, open_store(settings.evidence_store), settings)
    try:
        done = with_db(settings, store)
    except ingest.HandError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(done, default=str, ensure_ascii=False))
        return 0
    contacts = ", ".join(f"{c['kind']} {c['value']}" for c in done["contacts"]) or "none"
    print(f"listing {done['listing_id']} stored and queued as item {done['queue_id']} "
          f"(keyword score {done['score']:.1f}, language {done['language']}, contacts: {contacts}, "
          f"photos kept: {done['photos']})")
    return 0


def cmd_platforms_list(args, settings) -> int:
    from wildwatch.hand import ingest

    for slug, title in with_db(settings, ingest.platforms):
        print(f"{slug:<16} {title}")
    return 0


def cmd_platforms_add(args, settings) -> int:
    from wildwatch.hand import ingest

    def add(conn):
        with conn:
            ingest.add_platform(conn, args.slug, args.title, who(args))
    try:
        with_db(settings, add)
    except ingest.HandError as exc:
        return fail(str(exc))
    print(f"platform {args.slug} ({args.title}) added")
    return 0


def register(sub) -> None:
    p = sub.add_parser("capture", help="add an offer found by hand: a page's address, a saved file, or the text")
    p.add_argument("--platform", required=True, help="facebook, zalo, wechat, ... (`wildwatch platforms list`)")
    p.add_argument("--country", required=True, help="two-letter country code of the survey (VN, CN, TZ, CM...)")
    p.add_argument("--url", help="the post's public address (fetched: robots.txt, WARC, screenshot)")
    p.add_argument("--file", help="a saved page or picture: HTML, MHTML, WARC, WACZ, PDF, PNG or JPEG")
    p.add_argument("--title")
    p.add_argument("--text", help="the post's text, typed or pasted")
    p.add_argument("--seller")
    p.add_argument("--price")
    p.add_argument("--currency")
    p.add_argument("--seen", help="the day the post was seen, YYYY-MM-DD (default: today)")
    p.add_argument("--no-screenshot", action="store_true", help="with --url: no screenshot (no Chromium here)")
    p.add_argument("--user", help="who found it (default: the login name); recorded and audited")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_capture)

    p = sub.add_parser("platforms", help="platforms without a site file that offers are found on by hand")
    psub = p.add_subparsers(dest="platforms_action", required=True)
    lst = psub.add_parser("list")
    lst.set_defaults(func=cmd_platforms_list)
    add = psub.add_parser("add", help="add a platform to the list (administrators)")
    add.add_argument("slug")
    add.add_argument("title")
    add.add_argument("--user")
    add.set_defaults(func=cmd_platforms_add)
