"""Adding an offer found by hand in the review app, in two steps: the analyst brings a post (its public
address, a saved file, or its text), wildwatch proposes its fields; the analyst corrects them and saves.
Between the steps the upload waits in the evidence store (content-addressed), named by its hash."""
from __future__ import annotations

import datetime as dt
import re

from fastapi import Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wildwatch import config
from wildwatch.evidence import readable, warc
from wildwatch.evidence.store import open_store
from wildwatch.hand import fetch, files, ingest
from wildwatch.review import claims, inputs

SHA = re.compile(r"[0-9a-f]{64}")
MAX_FILES = 10  # a saved page or screenshot, and more screenshots of the same post
PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def add(app, *, user, csrf, connection, render, evidence_store, second_review: bool, lease_s: int) -> None:
    store = open_store(evidence_store)

    def form(request: Request, status: int = 200, **context):
        with connection() as conn:
            platforms = ingest.platforms(conn)
        response = render(request, "hand_add.html", platforms=platforms, decisions=claims.DECISIONS,
                          today=dt.date.today().isoformat(), **{"error": None, "proposed": None, **context})
        response.status_code = status
        return response

    @app.get("/add", response_class=HTMLResponse)
    def add_form(request: Request, current=Depends(user)):
        return form(request)

    @app.post("/add", dependencies=[Depends(csrf)])
    def propose(request: Request, platform: str = Form(""), country: str = Form(""), url: str = Form(""),
                      text: str = Form(""), title: str = Form(""), seller: str = Form(""), price: str = Form(""),
                      seen: str = Form(""), file: list[UploadFile] | None = File(None), current=Depends(user)):
        inputs.no_nul(platform, country, url, text, title, seller, price, seen)
        typed = {"platform": platform, "country": country.strip().upper()[:2], "url": url.strip()[:2000],
                 "text": text[:20000], "title": title[:500], "seller": seller[:500], "price": price[:100],
                 "seen": seen[:10]}
        try:
            chosen = [f for f in (file or []) if f.filename][:MAX_FILES]
            extra = ""
            if chosen:
                # The first file is the find's evidence; more screenshots of the same post are kept as its photos.
                data = chosen[0].file.read(files.MAX_UPLOAD + 1)
                upload = files.read(data)
                kind, sha, name = upload.kind, store.put(upload.data), chosen[0].filename[:200]
                more = []
                for other in chosen[1:]:
                    picture = other.file.read(files.MAX_UPLOAD + 1)
                    if len(picture) > files.MAX_UPLOAD:
                        raise files.UploadRefused(f"{other.filename[:80]}: over the size limit")
                    files.check_image(picture)  # only pictures come as further files
                    more.append(store.put(picture))
                extra = ",".join(more)
                found = {"title": upload.title, "description": upload.text, "url": upload.url}
            elif typed["url"]:
                if not re.match(r"https?://", typed["url"]):
                    raise files.UploadRefused("the address is an http(s) address")
                page, fields, _ = fetch.fetch(typed["url"], with_screenshot=False)
                kind, sha, name = "address", store.put(warc.build(page)), None
                found = {**fields, "url": page.url}
            elif typed["text"].strip():
                kind, sha, name, found = "text", "", None, {}
            else:
                raise files.UploadRefused("bring the post: its address, a saved file, or its text")
        except files.UploadRefused as exc:
            return form(request, 400, error=str(exc), typed=typed)
        proposed = {**typed, "kind": kind, "sha": sha, "file_name": name or "", "extra": extra if chosen else "",
                    "title": typed["title"] or found.get("title") or "",
                    "text": typed["text"] or found.get("description") or "",
                    "seller": typed["seller"] or found.get("seller") or "",
                    "price": typed["price"] or found.get("price") or "", "url": typed["url"] or found.get("url") or ""}
        return form(request, proposed=proposed, typed=proposed)

    @app.get("/add/preview/{sha}")
    def preview(sha: str, current=Depends(user)):
        """The page an upload holds, as the archived-page view shows evidence: sandboxed, nothing fetched."""
        if not SHA.fullmatch(sha):
            raise HTTPException(status_code=404)
        try:
            upload = _reread(store, sha)
        except (FileNotFoundError, files.UploadRefused):
            raise HTTPException(status_code=404) from None
        if upload.upload is None or upload.upload.html is None:
            raise HTTPException(status_code=404, detail="no page to show in this file")
        body, declared = upload.upload.html, upload.upload.charset
        charset = readable.page_charset(body, f"text/html; charset={declared}" if declared else None)
        return Response(body, headers={"Content-Type": f"text/html; charset={charset}" if charset else "text/html",
                                       "Content-Security-Policy": PREVIEW_CSP,
                                       "X-Frame-Options": "SAMEORIGIN"})

    @app.post("/add/save", dependencies=[Depends(csrf)])
    def save(request: Request, platform: str = Form(""), country: str = Form(""), url: str = Form(""),
             text: str = Form(""), title: str = Form(""), seller: str = Form(""), price: str = Form(""),
             currency: str = Form(""), seen: str = Form(""), kind: str = Form("text"), sha: str = Form(""),
             file_name: str = Form(""), extra: str = Form(""), decision: str = Form(""),
             product_group: str = Form(""), current=Depends(user)):
        inputs.no_nul(platform, country, url, text, title, seller, price, currency, seen, file_name, product_group)
        typed = {"platform": platform, "country": country, "url": url, "text": text, "title": title,
                 "seller": seller, "price": price, "seen": seen, "kind": kind, "sha": sha, "file_name": file_name}
        try:
            seen_on = dt.date.fromisoformat(seen) if seen else None
        except ValueError:
            return form(request, 400, error="the day seen is YYYY-MM-DD", proposed=typed, typed=typed)
        if decision and decision not in claims.DECISIONS:
            raise HTTPException(status_code=400, detail="unknown decision")
        find = ingest.Find(platform=platform, country=country, found_by=current["name"], url=url.strip() or None,
                           title=title[:500] or None, text=text[:20000], seller=seller[:500] or None,
                           price=price[:100] or None, currency=currency[:3].upper() or None, seen_on=seen_on,
                           file_name=file_name or None)
        if kind != "text":
            if not SHA.fullmatch(sha):
                raise HTTPException(status_code=400, detail="the upload is missing: bring it again")
            try:
                again = _reread(store, sha, address=kind == "address")
            except (FileNotFoundError, files.UploadRefused) as exc:
                return form(request, 400, error=f"the upload is missing or unreadable: {exc}", proposed=typed,
                            typed=typed)
            find.upload, find.page_capture = again.upload, again.page_capture
            if again.upload is not None:
                again.upload.text = ""  # the analyst's edited text stands for the file's
                for more in [x for x in extra.split(",") if x][:MAX_FILES]:
                    if not SHA.fullmatch(more):
                        raise HTTPException(status_code=400, detail="a further picture is missing: bring it again")
                    try:
                        again.upload.images.append(store.get(more))
                    except FileNotFoundError:
                        raise HTTPException(status_code=400, detail="a further picture is missing") from None
            if again.page_capture is not None:  # a page fetched from its address: a screenshot too, as a crawl
                find.screenshot = _screenshot(again.page_capture)
        try:
            with connection() as conn:
                done = ingest.add(conn, find, store, config.load())
                if decision:  # the finder's own decision can be the first one (second review still applies)
                    if claims.claim_item(conn, done["queue_id"], current["name"], lease_s):
                        claims.decide(conn, done["queue_id"], current["name"], decision,
                                      product_group.strip()[:100] or None, second_review=second_review)
        except ingest.HandError as exc:
            return form(request, 400, error=str(exc), proposed=typed, typed=typed)
        request.session["flash"] = (f"Added as item {done['queue_id']}: {len(done['contacts'])} contacts found, "
                                    f"{done['photos']} photos kept.")
        return RedirectResponse(f"/item/{done['queue_id']}", status_code=303)


def _screenshot(page) -> dict:
    import asyncio

    from wildwatch.evidence import capture

    try:
        return asyncio.run(fetch.screenshot(page, config.load()))
    except Exception as exc:  # noqa: BLE001 - no browser here, or it failed: recorded, the find is kept
        return capture.missing_row("screenshot", page.url, f"{capture.crawler_version()} by-hand",
                                   f"no screenshot: {type(exc).__name__}: {exc}"[:300])


class _Again:
    def __init__(self, upload=None, page_capture=None):
        self.upload, self.page_capture = upload, page_capture


def _reread(store, sha: str, address: bool = False) -> _Again:
    """The upload (or the page fetched from its address) as it waits in the store between the two steps."""
    data = store.get(sha)
    if address:
        page_url, status, body = warc.read_response(data)
        kind = warc.content_type(data) or "text/html"
        return _Again(page_capture=warc.PageCapture(url=page_url, status=status, headers=[("Content-Type", kind)],
                                                    body=body))
    return _Again(upload=files.read(data))
