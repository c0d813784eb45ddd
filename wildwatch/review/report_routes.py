"""Past monthly reports, for supervisors: the list, each report's page, its workbook and CSVs."""
from __future__ import annotations

import re
from pathlib import Path

from fastapi import Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

LABEL = re.compile(r"\d{4}-\d{2}(-[A-Z]{2})?(-public)?")
FILE = re.compile(r"[a-z_]+\.csv|report-[0-9A-Za-z-]+\.xlsx")
# The report is a self-contained file: its own styles and embedded images, never a script.
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'"


def add(app, *, supervisor, render, reports_dir: Path) -> None:
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
