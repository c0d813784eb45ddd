"""The `wildwatch` command."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from wildwatch import config, db


def _fail(message: str) -> int:
    print(f"wildwatch: {message}", file=sys.stderr)
    return 1


def _ensure_db(settings: config.Settings) -> str:
    """The database URL; the self-managed cluster is started when no URL is configured."""
    if settings.manages_local_db:
        db.local_cluster(settings).start()
    return db.database_url(settings)


def cmd_db(args, settings) -> int:
    cluster = db.local_cluster(settings)
    if args.action in ("start", "stop", "status") and not settings.manages_local_db:
        if args.action == "status":
            print(f"external database: {db.mask_url(settings.database_url)}")
            return 0
        return _fail("WILDWATCH_DATABASE_URL is set: the database is not managed by wildwatch")
    if args.action == "start":
        cluster.start()
        print(f"PostgreSQL {cluster.status()}")
    elif args.action == "stop":
        cluster.stop()
        print(f"PostgreSQL {cluster.status()}")
    elif args.action == "status":
        print(f"PostgreSQL {cluster.status()}")
    elif args.action == "url":
        print(_ensure_db(settings) if args.show_password else db.mask_url(_ensure_db(settings)))
    elif args.action == "replay-spool":
        from wildwatch import spool

        conn = db.connect(_ensure_db(settings))
        try:
            done = spool.replay(conn)
        finally:
            conn.close()
        print(f"replayed {done['listings']} listings from {done['files']} spool files ({done['queued']} queued)")
    elif args.action == "migrate":
        conn = db.connect(_ensure_db(settings))
        try:
            applied = db.migrate(conn)
            versions = db.applied_versions(conn)
        finally:
            conn.close()
        print(f"applied {', '.join(applied)}" if applied else "schema up to date", f"(version {versions[-1]})")
    return 0


def cmd_demo_site(args, settings) -> int:
    from wildwatch.demo.server import DemoMarketplaces

    if args.write_ground_truth:
        from wildwatch.demo.generator import write_ground_truth

        write_ground_truth(args.write_ground_truth)
        print(f"wrote {args.write_ground_truth}")
        return 0
    demo = DemoMarketplaces(args.host, args.port)
    for listing_id in args.removed:
        demo.remove(f"demo_{listing_id[:2]}", [listing_id])
    urls = demo.start()
    for name, url in urls.items():
        print(f"{name:8s} {url}")
    sys.stdout.flush()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    demo.stop()
    return 0


def cmd_queue(args, settings) -> int:
    from wildwatch import queue

    with db.transaction(_ensure_db(settings)) as conn:
        rows = queue.pending(conn, limit=args.limit, site=args.site)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    if not rows:
        print("the review queue is empty")
        return 0
    print(f"{'site':8s} {'score':>5s}  {'title':40s}  {'matched terms':30s}  url")
    for r in rows:
        print(f"{r['site']:8s} {r['score']:5.1f}  {_clip(r['title'], 40)}  {_clip(', '.join(r['terms']), 30)}  "
              f"{r['url']}")
    print(f"{len(rows)} pending")
    return 0


def _clip(text: str, width: int) -> str:
    """Pad or cut to a display width (CJK characters take two columns)."""
    import unicodedata

    out, used = "", 0
    for ch in text.replace("\n", " "):
        w = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used + w > width:
            break
        out, used = out + ch, used + w
    return out + " " * (width - used)


def cmd_demo_report(args, settings) -> int:
    from wildwatch import demo_report

    with db.transaction(_ensure_db(settings)) as conn:
        ok = demo_report.print_report(conn, run_key=args.run_key)
    return 0 if ok else 1


def cmd_demo(args, settings) -> int:
    from wildwatch.demo.run import run_demo

    return run_demo()


def cmd_airflow(args, settings) -> int:
    from wildwatch import airflow_services

    if args.action == "start":
        return airflow_services.start(args.port)
    if args.action == "stop":
        return airflow_services.stop()
    return airflow_services.status()


def cmd_keywords_import_cites(args, settings) -> int:
    from wildwatch import cites, keywords

    counts = cites.import_index(args.path, settings.keywords_dir)
    kb = keywords.load(settings.keywords_dir)  # fails loudly if the import wrote something invalid
    for group, n in sorted(counts.items()):
        print(f"{group:14s} {n:6d} names")
    print(f"{sum(counts.values())} names written to {settings.keywords_dir / keywords.CITES_DIR}; "
          f"{len(kb.terms)} terms in the knowledge base")
    return 0


def cmd_keywords_evaluate(args, settings) -> int:
    from wildwatch import evaluate, keywords, matching

    matcher = matching.Matcher(keywords.load(settings.keywords_dir))
    try:
        result = evaluate.evaluate(matcher, args.input, args.text_column, args.label_column,
                                   settings.queue_threshold, group=args.group, worst=args.worst)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    scope = f" (group {args.group})" if args.group else ""
    print(f"{result['rows']} texts, {result['positives']} positive{scope}; threshold {result['threshold']}")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}  "
          f"(TP {result['true_positives']}, FP {result['false_positives']}, FN {result['false_negatives']})")
    for title, key in (("worst false positives", "worst_false_positives"),
                       ("worst false negatives", "worst_false_negatives")):
        print(f"\n{title}:")
        for r in result[key] or [{"text": "none", "score": "", "reasons": []}]:
            print(f"  {r['score']!s:>5}  {r['text']}")
            for why in r["reasons"][:3]:
                print(f"         {why}")
    return 0


def cmd_sites_check(args, settings) -> int:
    from spiders.checks import PageMissing, coverage, run_check
    from wildwatch import sites

    names = [args.name] if args.name else list(sites.site_files())
    failed = 0
    for name in names:
        site = sites.load(name)
        if not site.checks:
            print(f"{name}: no saved pages listed under checks")
            failed += 1
            continue
        for check in site.checks:
            try:
                cov = coverage(site, check)
                problems = run_check(site, check)
            except PageMissing as exc:
                # Checking every site, a page that lives outside the repository may be absent here; a site
                # asked for by name must be checked, so its missing page fails.
                print(f"{name:10s} {check['kind']:12s} {'MISSING' if args.name else 'skipped'}: {exc}")
                failed += bool(args.name)
                continue
            share = "  ".join(f"{f} {100 * v:3.0f}%" for f, v in cov["fields"].items())
            verdict = "OK" if not problems else "FAIL: " + "; ".join(problems)
            print(f"{name:10s} {check['kind']:12s} {cov['results']:4d} results  {share}  {verdict}")
            print(f"{'':10s} {check['page']}")
            failed += bool(problems)
    return 1 if failed else 0


def cmd_sites_new(args, settings) -> int:
    from wildwatch import sitegen

    try:
        written = sitegen.new_site(args.name, args.page, args.base_url, args.country, args.language, args.currency,
                                   kind=args.kind, realdata=args.realdata)
    except (OSError, ValueError) as exc:
        return _fail(str(exc))
    for path in written:
        print(f"wrote {path}")
    print(f"next: fill in the selectors in {written[0].name}, then `wildwatch sites check {args.name}`")
    return 0


def cmd_review(args, settings) -> int:
    import uvicorn

    from wildwatch.review.app import create_app

    _ensure_db(settings)
    conn = db.connect()
    try:
        db.migrate(conn)
    finally:
        conn.close()
    print(f"review app on http://{args.host}:{args.port}  (add users with `wildwatch users add NAME --role analyst`)")
    # Forwarded headers are handled by the app, from WILDWATCH_TRUSTED_PROXIES only (uvicorn would trust
    # 127.0.0.1 by default: any local process could then claim any address).
    if args.workers > 1:  # processes, each with its own app; sessions and throttling live in the database
        uvicorn.run("wildwatch.review.app:create_app", factory=True, workers=args.workers, host=args.host,
                    port=args.port, log_level="warning", proxy_headers=False)
    else:
        uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning", proxy_headers=False)
    return 0


def cmd_report(args, settings) -> int:
    from wildwatch.report.build import build_report, write

    conn = db.connect(_ensure_db(settings))
    try:
        db.migrate(conn)
        try:
            report = build_report(conn, args.month, args.country, args.public)
        except ValueError as exc:
            return _fail(str(exc))
    finally:
        conn.close()
    files = write(report, args.out or settings.reports_dir / report.label)
    print(f"report: {files['html']}")
    print(f"workbook: {files['xlsx']}  (and one CSV per table beside it)")
    return 0


def cmd_cluster(args, settings) -> int:
    from wildwatch import cluster

    if args.action == "start":
        return cluster.start(args.port, args.workers)
    return cluster.stop() if args.action == "stop" else cluster.status()


def cmd_pools(args, settings) -> int:
    from wildwatch import pools

    if args.action == "show":
        print(json.dumps(pools.spec(), indent=2))
        return 0
    for name, pool in pools.sync().items():
        print(f"{name}: {pool['slots']} slot(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wildwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("db", help="manage the database")
    p.add_argument("action", choices=["start", "stop", "status", "migrate", "url", "replay-spool"],
                   help="replay-spool: store listings a crawl spooled while the database was away")
    p.add_argument("--show-password", action="store_true", help="with url: print the password too")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("demo-site", help="serve the demo marketplaces on 127.0.0.1")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8701, help="first of six consecutive ports, one per demo site (0: any free)")
    p.add_argument("--write-ground-truth", type=Path, metavar="PATH",
                   help="write the demo listings and their labels as JSON, then exit")
    p.add_argument("--removed", type=lambda v: [x for x in v.split(",") if x], default=[], metavar="IDS",
                   help="listings already taken down, e.g. vn0003,cm0012 (to try the takedown follow-up)")
    p.set_defaults(func=cmd_demo_site)

    p = sub.add_parser("queue", help="the review queue")
    qsub = p.add_subparsers(dest="queue_action", required=True)
    q = qsub.add_parser("list", help="pending candidates")
    q.add_argument("--json", action="store_true")
    q.add_argument("--site")
    q.add_argument("--limit", type=int)
    q.set_defaults(func=cmd_queue)

    p = sub.add_parser("demo", help="run a full monthly survey of the demo marketplaces through Airflow")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("keywords", help="the keyword knowledge base")
    ksub = p.add_subparsers(dest="keywords_action", required=True)
    k = ksub.add_parser("import-cites", help="add CITES scientific, synonym and common names to the groups")
    k.add_argument("path", type=Path, help="Species+ 'Index of CITES species' export (.csv or .csv.gz)")
    k.set_defaults(func=cmd_keywords_import_cites)

    k = ksub.add_parser("evaluate", help="precision and recall of 'would be queued' on a labelled CSV")
    k.add_argument("--input", type=Path, required=True)
    k.add_argument("--text-column", required=True)
    k.add_argument("--label-column", required=True, help="0/1: 1 when the text should be queued")
    k.add_argument("--group", help="only this product group's terms and offers")
    k.add_argument("--worst", type=int, default=10, help="how many false positives/negatives to list")
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_keywords_evaluate)

    p = sub.add_parser("sites", help="site definitions")
    ssub = p.add_subparsers(dest="sites_action", required=True)
    c = ssub.add_parser("check", help="run a site's extraction on its saved pages and print field coverage")
    c.add_argument("name", nargs="?", help="a site (default: every site)")
    c.set_defaults(func=cmd_sites_check)

    n = ssub.add_parser("new", help="start a site file from a saved search or listing page (kept as its check)")
    n.add_argument("name")
    n.add_argument("--page", type=Path, help="a saved page (.html or .html.gz), copied into tests/fixtures/sites/NAME/")
    n.add_argument("--realdata", help="a page under shared/realdata, referenced by the check instead of copied")
    n.add_argument("--kind", choices=["search", "detail"], default="search",
                   help="a search results page (guess the result list) or a listing's own page (a detail: section)")
    n.add_argument("--base-url", required=True)
    n.add_argument("--country", required=True, help="ISO 3166 alpha-2")
    n.add_argument("--language", required=True, choices=sorted(__import__("wildwatch.keywords").keywords.LANGUAGES))
    n.add_argument("--currency", required=True)
    n.set_defaults(func=cmd_sites_new)

    p = sub.add_parser("review", help="serve the analysts' review app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8700)
    p.add_argument("--workers", type=int, default=1, help="server processes (production: about one per core)")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("report", help="the monthly survey report (HTML with plots, CSV per table, XLSX)")
    p.add_argument("--month", required=True, help="survey month, YYYY-MM")
    p.add_argument("--country", help="ISO country code: only this country's platforms")
    p.add_argument("--out", type=Path, help="folder (default: var/reports/<month>[-<country>])")
    p.add_argument("--public", action="store_true", help="without seller names and listing addresses, for sharing")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("cluster", help="Redis, Airflow with the CeleryExecutor and N workers, on 127.0.0.1")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--port", type=int, default=8080, help="the Airflow UI/API port")
    p.add_argument("--workers", type=int, default=2)
    p.set_defaults(func=cmd_cluster)

    p = sub.add_parser("pools", help="one Airflow pool per site, slots = the site's concurrency")
    p.add_argument("action", choices=["sync", "show"], help="sync: create/update them in Airflow; show: print JSON")
    p.set_defaults(func=cmd_pools)

    from wildwatch.commands import backup as backup_commands
    from wildwatch.commands import evidence as evidence_commands

    evidence_commands.register(sub)
    backup_commands.register(sub)

    p = sub.add_parser("airflow", help="Airflow UI, scheduler and DAG processor on 127.0.0.1")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--port", type=int, default=8080)
    p.set_defaults(func=cmd_airflow)

    from wildwatch.commands import ranker as ranker_commands

    ranker_commands.register(sub)

    from wildwatch.commands import runs as runs_commands
    from wildwatch.commands import sellers as sellers_commands
    from wildwatch.commands import users as users_commands

    users_commands.register(sub)

    from wildwatch.commands import hand as hand_commands

    hand_commands.register(sub)

    from wildwatch.commands import photos as photo_commands

    photo_commands.register(sub)

    sellers_commands.register(sub)
    runs_commands.register(sub)

    p = sub.add_parser("demo-report", help="per-site counts of a survey run against the demo ground truth")
    p.add_argument("--run-key", help="Airflow run id (default: the latest run)")
    p.set_defaults(func=cmd_demo_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = config.load()
        return args.func(args, settings) or 0
    except (config.ConfigError, db.DatabaseUnavailable) as exc:
        return _fail(str(exc))
    except BrokenPipeError:
        # `wildwatch queue list | head`: the reader left; end quietly (and keep Python's exit flush quiet too).
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # noqa: BLE001 - known operational errors get one line, not a trace
        from wildwatch.localpg import LocalPgError
        from wildwatch.sites import SiteError
        from wildwatch.keywords import KeywordError

        if isinstance(exc, (LocalPgError, SiteError, KeywordError)):
            return _fail(str(exc))
        raise


if __name__ == "__main__":
    sys.exit(main())
