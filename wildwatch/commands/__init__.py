"""`wildwatch` command groups, one module each (`register(sub)` adds its subcommands); `wildwatch/cli.py` wires
them. Helpers every group uses live here."""


def fail(message: str) -> int:
    """One line on stderr and exit status 1: an operator's mistake, never a traceback."""
    import sys

    print(f"error: {message}", file=sys.stderr)
    return 1


def who(args) -> str:
    """--user, else the login name (a container's uid may have no passwd entry: then "uid N")."""
    import getpass
    import os

    if args.user:
        return args.user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


def with_db(settings, work):
    """work(conn) on the survey database (started and migrated first when the project manages it)."""
    from wildwatch import db

    conn = db.connect(db.ready(settings))
    try:
        return work(conn)
    finally:
        conn.close()


def ensure_db(settings) -> str:
    """The database URL; the self-managed cluster is started when no URL is configured (not migrated)."""
    from wildwatch import db

    return db.start_local(settings) if settings.manages_local_db else db.database_url(settings)


# Both `evaluate` commands read labelled CSVs (wildwatch/labelled.py).
SKIP_HELP = "leave out rows whose label is empty, NA or unsure (counted) instead of refusing the file"
