"""`wildwatch evidence`: the evidence store (a folder or an S3 bucket, WILDWATCH_EVIDENCE_STORE): create it,
check every file the database names, purge photos past their retention."""
from __future__ import annotations

from wildwatch.commands import fail, who, with_db


def cmd_init(args, settings) -> int:
    from wildwatch.evidence.store import EvidenceStoreError, open_store

    store = open_store(settings.evidence_store)
    try:
        created = store.create_bucket() if hasattr(store, "create_bucket") else False
    except EvidenceStoreError as exc:
        return fail(str(exc))
    print(("created " if created else "ready: ") + settings.evidence_store)
    return 0


def cmd_verify(args, settings) -> int:
    from wildwatch.evidence.store import EvidenceStoreError, open_store
    from wildwatch.evidence.verify import verify

    try:
        report = with_db(settings, lambda conn: verify(conn, open_store(settings.evidence_store)))
    except EvidenceStoreError as exc:
        return fail(str(exc))
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def cmd_purge_photos(args, settings) -> int:
    from wildwatch.evidence.retention import purge_photos
    from wildwatch.evidence.store import open_store

    try:
        done = with_db(settings, lambda conn: purge_photos(conn, open_store(settings.evidence_store),
                                                           args.older_than_days, who(args), args.dry_run))
    except ValueError as exc:
        return fail(str(exc))
    verb = "would purge" if done["dry_run"] else "purged"
    print(f"{verb} {done['photos']} photos of listings decided not wildlife over {done['older_than_days']} days ago"
          + ("" if done["dry_run"] else f"; {done['files_deleted']} files deleted from the evidence store"))
    return 0


def register(sub) -> None:
    p = sub.add_parser("evidence", help="the evidence store")
    esub = p.add_subparsers(dest="evidence_action", required=True)
    e = esub.add_parser("init", help="create the store's bucket (with object lock when "
                                     "WILDWATCH_S3_OBJECT_LOCK_DAYS is set); a folder needs nothing")
    e.set_defaults(func=cmd_init)
    e = esub.add_parser("verify", help="re-hash every stored evidence file; list missing, altered or never captured")
    e.set_defaults(func=cmd_verify)
    e = esub.add_parser("purge-photos", help="delete photos of listings decided 'not wildlife' over N days ago (audited)")
    e.add_argument("--older-than-days", type=int, required=True)
    e.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    e.add_argument("--user", help="who is recorded in the audit log (default: the login name)")
    e.set_defaults(func=cmd_purge_photos)
