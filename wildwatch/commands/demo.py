"""`wildwatch demo`, `demo-site`, `demo-report`: the demo marketplaces, a whole survey of them, its counts."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from wildwatch import db
from wildwatch.commands import ensure_db


def cmd_demo_site(args, settings) -> int:
    from wildwatch.demo.server import DemoMarketplaces

    if args.write_ground_truth:
        from wildwatch.demo.generator import write_ground_truth

        write_ground_truth(args.write_ground_truth)
        print(f"wrote {args.write_ground_truth}")
        return 0
    from wildwatch import ports

    port = args.port or ports.claim("demo", settings.var_dir)
    demo = DemoMarketplaces(args.host, port)
    if args.month == 2:
        demo.next_month()
    for listing_id in args.removed:
        demo.remove(f"demo_{listing_id[:2]}", [listing_id])
    urls = demo.start()
    if args.port:
        ports.record("demo", settings.var_dir, port)  # so the demo site files point at these
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


def cmd_demo_report(args, settings) -> int:
    from wildwatch import demo_report

    with db.transaction(ensure_db(settings)) as conn:
        ok = demo_report.print_report(conn, run_key=args.run_key, month=args.month)
    return 0 if ok else 1


def cmd_demo(args, settings) -> int:
    from wildwatch.demo.run import run_demo

    return run_demo(args.month)


def register(sub) -> None:
    p = sub.add_parser("demo-site", help="serve the demo marketplaces on 127.0.0.1")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0,
                   help="first of six consecutive ports, one per demo site (default: WILDWATCH_DEMO_PORT, else 8701 "
                        "when free, else free ones; the choice is kept in var/ports.json for the demo site files)")
    p.add_argument("--month", type=int, default=1, choices=(1, 2),
                   help="1: the first survey's listings; 2: the sellers' next month (new listings added)")
    p.add_argument("--write-ground-truth", type=Path, metavar="PATH",
                   help="write the demo listings and their labels as JSON, then exit")
    p.add_argument("--removed", type=lambda v: [x for x in v.split(",") if x], default=[], metavar="IDS",
                   help="listings already taken down, e.g. vn0003,cm0012 (to try the takedown follow-up)")
    p.set_defaults(func=cmd_demo_site)

    p = sub.add_parser("demo", help="run a full monthly survey of the demo marketplaces through Airflow")
    p.add_argument("--month", type=int, default=1, choices=(1, 2),
                   help="the demo's month: 1 (last calendar month) or 2 (this month: the sellers' next listings)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("demo-report", help="per-site counts of a survey run against the demo ground truth")
    p.add_argument("--run-key", help="Airflow run id (default: the latest run)")
    p.add_argument("--month", type=int, default=1, choices=(1, 2), help="the demo month the run surveyed")
    p.set_defaults(func=cmd_demo_report)
