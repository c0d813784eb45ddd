"""`wildwatch backup` and `wildwatch restore`: the survey database and the evidence it names, together
(wildwatch/backup.py); the wildwatch_backup DAG runs `backup` nightly."""
from __future__ import annotations

from wildwatch.commands import fail


def cmd_backup(args, settings) -> int:
    from wildwatch import backup, db
    from wildwatch.evidence.store import EvidenceStoreError, open_store

    to = args.to or settings.backup_to
    if not to:
        return fail("say where: --to FOLDER or s3://bucket/prefix (or set WILDWATCH_BACKUP_TO)")
    try:
        done = backup.backup(db.ready(settings), open_store(settings.evidence_store), to)
        pruned = backup.prune(to, args.keep) if args.keep else []
    except (backup.BackupError, EvidenceStoreError) as exc:
        return fail(str(exc))
    print(f"backup {done.name} in {to}: database dump {done.dump_bytes:,} bytes, {done.objects} evidence objects "
          f"({done.copied} new, {done.bytes_copied:,} bytes copied)"
          + (f"; removed {len(pruned)} older backups" if pruned else ""))
    return 0


def cmd_restore(args, settings) -> int:
    from wildwatch import backup, db
    from wildwatch.evidence.store import EvidenceStoreError, open_store

    # the self-managed cluster is started, and creates the (empty) database
    url = db.start_local(settings) if settings.manages_local_db else db.database_url(settings)
    try:
        done = backup.restore(url, open_store(settings.evidence_store), args.source, args.backup, args.replace)
    except (backup.BackupError, EvidenceStoreError) as exc:
        return fail(str(exc))
    print(f"restored backup {done['backup']} (schema version {done['schema_version']}): the database, and "
          f"{done['objects_restored']} of its {done['objects']} evidence objects that the store lacked"
          + (f"; {len(done['missing_at_backup'])} were already missing when it was taken"
             if done["missing_at_backup"] else "")
          + ". Next: wildwatch db migrate; wildwatch evidence verify")
    return 0


def register(sub) -> None:
    p = sub.add_parser("backup", help="back up the database and the evidence it names (folder or s3://)")
    p.add_argument("--to", help="a folder or s3://bucket/prefix (default: WILDWATCH_BACKUP_TO)")
    p.add_argument("--keep", type=int, default=0,
                   help="then keep only the newest N backups and the objects they name (0: keep all)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore the database and its evidence from a backup")
    p.add_argument("source", help="the folder or s3://bucket/prefix backups were written to")
    p.add_argument("--backup", default="latest", help="which backup (its UTC time name; default the newest)")
    p.add_argument("--replace", action="store_true",
                   help="drop what the database holds first (without it, only an empty database is restored into)")
    p.set_defaults(func=cmd_restore)
