"""Past monthly reports, for supervisors: the list, each report's page, its workbook and CSVs, and writing a
report again once analysts have decided more of its month (audited)."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from wildwatch import db
from wildwatch.review import inputs
from wildwatch.review.audit import record

LABEL = re.compile(r"(?P<month>[0-9]{4}-[0-9]{2})(-(?P<country>[A-Z]{2}))?(?P<public>-public)?")
FILE = re.compile(r"[a-z_]+\.csv|report-[0-9A-Za-z-]+\.xlsx")
# The report is a self-contained file: its own styles and embedded images, never a script.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"


def add(app, *, supervisor, csrf, connection, render, reports_dir: Path, database_url: str | None) -> None:
    def folder(label: str) -> Path:
        if not LABEL.fullmatch(label):
            raise HTTPException(status_code=404)
        path = reports_dir / label
        if not (path / f"report-{label}.html").is_file():
            raise HTTPException(status_code=404)
        return path

    @app.get("/reports", response_class=HTMLResponse)
    def reports(request: Request, current=Depends(supervisor)):
        labels = sorted((p.name for p in reports_dir.glob("*") if LABEL.fullmatch(p.name)
                         and (p / f"report-{p.name}.html").is_file()), reverse=True) if reports_dir.is_dir() else []
        return render(request, "reports.html", labels=labels)

    @app.post("/reports/{label}/regenerate", dependencies=[Depends(csrf)])
    def regenerate(request: Request, label: str, current=Depends(supervisor)):
        """The month's report written again from the decisions made since (the survey writes it before anyone
        has reviewed)."""
        from wildwatch.report.build import build_report, write

        parts = LABEL.fullmatch(label)
        if parts is None or not inputs.is_month(parts["month"]):
            raise HTTPException(status_code=404, detail=f"no report {label[:40]!r}: a report is named YYYY-MM")
        conn = db.connect(database_url)
        try:
            report = build_report(conn, parts["month"], parts["country"], bool(parts["public"]))  # its own transaction
        finally:
            conn.close()
        write(report, reports_dir / label)
        with connection() as conn:
            record(conn, current["name"], "report_regenerate", "report", label, None,
                   {**report.review, "generated_at": report.generated_at.isoformat()})
        review = report.review
        request.session["flash"] = (f"Report {label} written again: {review.get('decided', 0)} of "
                                    f"{review.get('candidates', 0)} candidates decided.")
        return RedirectResponse("/reports", status_code=303)

    @app.get("/reports/{label}")
    def report(label: str, current=Depends(supervisor)):
        path = folder(label) / f"report-{label}.html"
        return FileResponse(path, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": REPORT_CSP,
                                                                                  "X-Frame-Options": "DENY"})

    @app.get("/reports/{label}/{name}")
    def report_file(label: str, name: str, current=Depends(supervisor)):
        if not FILE.fullmatch(name):
            raise HTTPException(status_code=404)
        path = folder(label) / name
        if not path.is_file():
            raise HTTPException(status_code=404)
        return FileResponse(path, filename=name)
