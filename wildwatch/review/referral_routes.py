"""Supervisors' referral pages: build a referral from confirmed items, move it through its workflow,
download its package, and see what the platforms took down and how fast."""
from __future__ import annotations

from pathlib import Path

from fastapi import Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wildwatch.evidence.store import EvidenceAltered, EvidenceMissing, open_store
from wildwatch.referrals import build, followup, package
from wildwatch.review import inputs



def add(app, *, supervisor, csrf, connection, render, evidence_store, referrals_dir: Path,
        four_eyes: bool = True) -> None:
    @app.get("/referrals", response_class=HTMLResponse)
    def referrals(request: Request, current=Depends(supervisor)):
        with connection() as conn:
            rows = build.listing(conn)
            platforms = followup.stats_by_platform(conn)
            with conn.cursor() as cur:
                cur.execute("SELECT name FROM sites ORDER BY name")
                sites = [r[0] for r in cur.fetchall()]
        return render(request, "referrals.html", referrals=rows, platforms=platforms, sites=sites, error=None)

    @app.post("/referrals", dependencies=[Depends(csrf)])
    def create(request: Request, recipient_kind: str = Form(...), recipient: str = Form(...), month: str = Form(...),
               country: str = Form(""), current=Depends(supervisor)):
        inputs.month(month)
        inputs.no_nul(recipient, country)
        try:
            with connection() as conn:
                referral_id = build.create_or_refresh(conn, recipient_kind, recipient.strip()[:200], month,
                                                      current["name"], country.strip().upper()[:2] or None)
                if referral_id is not None:
                    package.build_package(conn, referral_id, open_store(evidence_store), referrals_dir)
        except build.ReferralError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        if referral_id is None:
            return RedirectResponse("/referrals?nothing=1", status_code=303)
        return RedirectResponse(f"/referrals/{referral_id}", status_code=303)

    @app.get("/referrals/{referral_id}", response_class=HTMLResponse)
    def show(request: Request, referral_id: int, current=Depends(supervisor)):
        with connection() as conn:
            ref = build.get(conn, referral_id)
            if ref is None:
                raise HTTPException(status_code=404)
            items = build.items(conn, referral_id)
            corrected = build.corrections(conn, referral_id)
            stats = followup.stats_for_referral(conn, referral_id)
            with conn.cursor() as cur:
                cur.execute("""SELECT DISTINCT ON (listing_id) listing_id, outcome, checked_at FROM takedown_checks
                               WHERE listing_id = ANY(%s) ORDER BY listing_id, checked_at DESC""",
                            ([i["listing_id"] for i in items],))
                checks = {r[0]: (r[1], r[2]) for r in cur.fetchall()}
        return render(request, "referral.html", ref=ref, items=items, stats=stats, checks=checks, corrected=corrected,
                      four_eyes=four_eyes,
                      next_statuses=sorted(build.TRANSITIONS[ref["status"]]))

    @app.post("/referrals/{referral_id}/status", dependencies=[Depends(csrf)])
    def change(referral_id: int, status: str = Form(...), current=Depends(supervisor)):
        try:
            with connection() as conn:
                build.set_status(conn, referral_id, status, current["name"], four_eyes=four_eyes)
        except build.ReferralError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        return RedirectResponse(f"/referrals/{referral_id}", status_code=303)

    @app.get("/referrals/{referral_id}/corrections.json")
    def corrections_notice(referral_id: int, current=Depends(supervisor)):
        """What to tell the recipient when decisions behind a referral were corrected after it was built: a
        notice that names the package it amends by its SHA-256 (the package itself never changes)."""
        import json

        from fastapi.responses import Response

        from wildwatch.review.audit import record

        with connection() as conn:
            ref = build.get(conn, referral_id)
            if ref is None:
                raise HTTPException(status_code=404)
            corrected = build.corrections(conn, referral_id)
            with conn.cursor() as cur:
                cur.execute("SELECT id, url FROM listings WHERE id = ANY(%s)", ([c["listing_id"] for c in corrected],))
                urls = dict(cur.fetchall())
            record(conn, current["name"], "export", "referral", referral_id, None,
                   {"corrections_notice": len(corrected)})
        notice = {"referral": referral_id, "recipient": ref["recipient"], "amends_package_sha256": ref["package_sha256"],
                  "corrections": [{"listing_url": urls.get(c["listing_id"]), "title": c["title"],
                                   "referred_as": c["referred_as"], "now": c["decision"],
                                   "product_group": c["product_group"], "corrected_by": c["decided_by"],
                                   "corrected_at": c["decided_at"].isoformat(), "reason": c["reason"]}
                                  for c in corrected]}
        return Response(json.dumps(notice, ensure_ascii=False, indent=1), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="referral-{referral_id}-corrections.json"'})

    @app.get("/referrals/{referral_id}/package")
    def download(referral_id: int, current=Depends(supervisor)):
        with connection() as conn:
            ref = build.get(conn, referral_id)
            if ref is None or not ref["package_file"]:
                raise HTTPException(status_code=404)
            from wildwatch.review.audit import record

            record(conn, current["name"], "export", "referral", referral_id, None,
                   {"package_sha256": ref["package_sha256"]})
        name = Path(ref["package_file"]).name
        # From the shared store (any machine built it); packages built before the store kept them are
        # still read from this machine's folder.
        try:
            data = open_store(evidence_store).get(ref["package_sha256"].strip())
        except EvidenceMissing:
            path = referrals_dir / name
            if not path.is_file():
                raise HTTPException(status_code=404, detail="package file missing") from None
            data = path.read_bytes()
        except EvidenceAltered as exc:
            raise HTTPException(status_code=500, detail="package altered since it was built") from exc
        return Response(data, media_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
