"""`wildwatch db`: the self-managed PostgreSQL (start, stop, status), its URL, migrations, the spool."""
from __future__ import annotations

from wildwatch import db
from wildwatch.commands import ensure_db, fail


def cmd_db(args, settings) -> int:
    cluster = db.local_cluster(settings)
    if args.action in ("start", "stop", "status") and not settings.manages_local_db:
        if args.action == "status":
            print(f"external database: {db.mask_url(settings.database_url)}")
            return 0
        return fail("WILDWATCH_DATABASE_URL is set: the database is not managed by wildwatch")
    if args.action == "start":
        cluster.start()
        print(f"PostgreSQL {cluster.status()}")
    elif args.action == "stop":
        cluster.stop()
        print(f"PostgreSQL {cluster.status()}")
    elif args.action == "status":
        print(f"PostgreSQL {cluster.status()}")
    elif args.action == "url":
        print(ensure_db(settings) if args.show_password else db.mask_url(ensure_db(settings)))
    elif args.action == "replay-spool":
        from wildwatch import spool

        conn = db.connect(ensure_db(settings))
        try:
            done = spool.replay(conn)
        finally:
            conn.close()
        print(f"replayed {done['listings']} listings from {done['files']} spool files ({done['queued']} queued)")
    elif args.action == "migrate":
        conn = db.connect(ensure_db(settings))
        try:
            applied = db.migrate(conn)
            versions = db.applied_versions(conn)
        finally:
            conn.close()
        print(f"applied {', '.join(applied)}" if applied else "schema up to date", f"(version {versions[-1]})")
    return 0


def register(sub) -> None:
    p = sub.add_parser("db", help="manage the database")
    p.add_argument("action", choices=["start", "stop", "status", "migrate", "url", "replay-spool"],
                   help="replay-spool: store listings a crawl spooled while the database was away")
    p.add_argument("--show-password", action="store_true", help="with url: print the password too")
    p.set_defaults(func=cmd_db)
