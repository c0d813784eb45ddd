"""`wildwatch report`: the monthly survey report (HTML with plots, one CSV per table, XLSX)."""
from __future__ import annotations

from pathlib import Path

from wildwatch import db
from wildwatch.commands import ensure_db, fail


def cmd_report(args, settings) -> int:
    from wildwatch.report.build import build_report, write

    conn = db.connect(ensure_db(settings))
    try:
        db.migrate(conn)
        month = args.month
        if month == "latest":
            with conn.cursor() as cur:
                cur.execute("SELECT to_char(max(period), 'YYYY-MM') FROM crawl_runs WHERE kind <> 'manual'")
                month = cur.fetchone()[0]
            if month is None:
                return fail("no survey run yet: nothing to report (--month latest)")
        try:
            report = build_report(conn, month, args.country, args.public)
        except ValueError as exc:
            return fail(str(exc))
    finally:
        conn.close()
    files = write(report, args.out or settings.reports_dir / report.label)
    print(f"report: {files['html']}")
    print(f"workbook: {files['xlsx']}  (and one CSV per table beside it)")
    return 0


def register(sub) -> None:
    p = sub.add_parser("report", help="the monthly survey report (HTML with plots, CSV per table, XLSX)")
    p.add_argument("--month", required=True, help="survey month, YYYY-MM, or latest (the latest survey's month)")
    p.add_argument("--country", help="ISO country code: only this country's platforms")
    p.add_argument("--out", type=Path, help="folder (default: var/reports/<month>[-<country>])")
    p.add_argument("--public", action="store_true", help="without seller names and listing addresses, for sharing")
    p.set_defaults(func=cmd_report)
