"""The analysts' review app: `create_app()` is the factory; `wildwatch review` serves it.

Everything but the login page needs a session. Scraped text is hostile: templates autoescape, matches are
marked by splitting text into segments (never raw HTML), and the Content-Security-Policy allows only our
own script and style files.
"""
from __future__ import annotations

import functools
import gc

import psycopg2

import hmac
import re
import secrets
import time
from contextlib import asynccontextmanager, contextmanager
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from wildwatch import config, db, keywords, money
from wildwatch.review import accounts, claims, export, neardup, quality, repository, sessions, throttle
from wildwatch.review import audit, blind, inputs
from wildwatch.review.audit import record
from wildwatch.review import settings as review_settings
from wildwatch.evidence import readable, warc
from wildwatch.evidence.store import EvidenceAltered, EvidenceMissing, open_store
from wildwatch.networks import queries as network_queries
from wildwatch.review import hand_routes, network_routes, referral_routes, report_routes
from wildwatch.review.network_routes import contact_label
from wildwatch.review.highlight import segments
from wildwatch.review import auditview
from wildwatch.review.ranking import explain_ranking

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "connect-src 'self'; "  # the item page's beacon that lets go of an item the analyst leaves
       "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'")
STATIC = Path(str(resources.files("wildwatch.review").joinpath("static")))


class LoginRequired(Exception):
    pass


@asynccontextmanager
async def lifespan(app: FastAPI):
    # Everything loaded by now (the framework, templates, numpy, the keyword lists) lives as long as the
    # server: out of the collector's sight, a full collection takes ~1 ms instead of 50-70 ms, which was
    # the slowest twentieth of queue pages (bench/review.py).
    gc.freeze()
    yield


def create_app(settings: review_settings.ReviewSettings | None = None) -> FastAPI:
    settings = settings or review_settings.load()
    base = config.load()
    evidence_store = settings.evidence_dir or base.evidence_store
    referrals_dir = settings.referrals_dir or base.referrals_dir
    templates = Jinja2Templates(directory=str(resources.files("wildwatch.review").joinpath("templates")))
    templates.env.filters["money"] = money.format_amount
    templates.env.filters["usd"] = money.about_usd
    templates.env.filters["unweighted"] = lambda reason: re.sub(r"^[+-]?\d+(\.\d+)?\s+", "", str(reason))
    templates.env.globals["rates_date"] = money.rates()["date"]
    templates.env.globals.update(audit_entity=auditview.entity, audit_action=auditview.action,
                                 audit_changes=auditview.changes, audit_raw=auditview.raw,
                                 audit_actions=auditview.ACTIONS,
                                 audit_entities={k: v[0] for k, v in auditview.ENTITIES.items()})
    app = FastAPI(title="wildwatch review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, max_age=settings.session_max_age_s,
                       same_site="strict", https_only=settings.https_only, session_cookie="wildwatch_session")
    if settings.trusted_proxies:
        # Forwarded addresses are believed only from the proxies named; otherwise the peer is the client.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        # The archived-page route sets its own, stricter policy (a sandbox) and allows our own frame.
        if "Content-Security-Policy" not in response.headers:
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        return RedirectResponse("/login", status_code=303)

    def error_page(request: Request, status: int, message: str, headers: dict | None = None) -> Response:
        """A readable page with a way back (JSON only for clients that ask for JSON only)."""
        accept = request.headers.get("accept", "")
        if "application/json" in accept and "text/html" not in accept:
            return JSONResponse({"detail": message}, status_code=status, headers=headers)
        heading = {400: "Not valid", 403: "Not allowed", 404: "Not found", 405: "Not allowed",
                   409: "Not recorded", 413: "Too large", 422: "Not valid", 429: "Too many requests"}
        response = render(request, "error.html", heading=heading.get(status, "Something went wrong"),
                          message=message)
        response.status_code = status
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") \
            else {404: "There is no such page or item.", 405: "That action is not available here."}.get(
                exc.status_code, str(exc.detail))
        return error_page(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_input(request: Request, exc: RequestValidationError):
        fields = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()})
        return error_page(request, 400, f"Not valid: {', '.join(fields)}.")

    @app.exception_handler(psycopg2.DataError)
    async def invalid_value(request: Request, exc: psycopg2.DataError):
        # A value PostgreSQL refuses (an id past bigint, text it cannot store): the sender's error.
        return error_page(request, 400, "A value sent is out of range or not valid.")

    @app.exception_handler(ValueError)
    async def nul_in_text(request: Request, exc: ValueError):
        if "NUL" in str(exc):  # psycopg2 refuses NUL characters in text
            return error_page(request, 400, "Text with a NUL character is not accepted.")
        raise exc

    @contextmanager
    def connection():
        conn = db.connect(settings.database_url)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    schema_version = db.migrations()[-1][0]

    @app.get("/healthz")
    def healthz():
        """For the proxy, compose and monitoring: no login, and nothing but which part is failing (no
        addresses, versions or error text for an outsider to read)."""
        parts = {}
        try:
            with connection() as conn, conn.cursor() as cur:
                cur.execute("SELECT max(version) FROM schema_migrations")
                latest = cur.fetchone()[0]
            parts["database"] = "ok" if latest == schema_version else "not migrated"
        except (psycopg2.Error, db.DatabaseUnavailable):
            parts["database"] = "unreachable"
        try:
            open_store(evidence_store).check()
            parts["evidence_store"] = "ok"
        except OSError:
            parts["evidence_store"] = "unreachable"
        healthy = all(v == "ok" for v in parts.values())
        return JSONResponse({"status": "ok" if healthy else "failing", **parts}, status_code=200 if healthy else 503)

    def user(request: Request) -> dict:
        """The signed-in user, as the server's session record says now (not as the cookie remembers)."""
        cached = getattr(request.state, "user", None)
        if cached:
            return cached
        with connection() as conn:
            current = sessions.current(conn, request.session.get("sid"), settings.session_idle_s,
                                       settings.session_max_age_s)
        if not current:
            if "sid" in request.session:  # a session that ended: forget it (a login form's token stays)
                request.session.clear()
            raise LoginRequired()
        request.state.user = current
        return current

    def csrf(request: Request, csrf_token: str = Form("")) -> None:
        expected = request.session.get("csrf", "")
        if not expected or not hmac.compare_digest(expected, csrf_token):
            raise HTTPException(status_code=403, detail="invalid or missing CSRF token")

    def render(request: Request, name: str, **context):
        # The Undo button shows only while the decision can still be taken back, and leaves when that ends.
        undo, undo_left = request.session.pop("undo", None), 0
        if isinstance(undo, dict):
            undo_left = int(undo.get("until", 0) - time.time())
            undo = undo.get("id") if undo_left > 0 else None
        return templates.TemplateResponse(request, name, {"user": getattr(request.state, "user", None),
                                                          "csrf": request.session.get("csrf"),
                                                          "flash": request.session.pop("flash", None),
                                                          "flash_kind": request.session.pop("flash_kind", None),
                                                          "undo": undo, "undo_left": undo_left, **context})

    @functools.lru_cache(maxsize=1)
    def keyword_groups() -> dict[str, str]:
        """Product groups (id -> label) of the keyword lists, for the queue's group filter."""
        return dict(keywords.load(config.load().keywords_dir).groups)

    def working_slice(request: Request) -> dict:
        """The part of the queue the analyst works on: the queue page's last filters (they stick, as in Label
        Studio, until cleared), so "Next item" and deciding stay within a language desk's slice."""
        return request.session.get("slice") or {}

    def advance(request: Request, name: str) -> RedirectResponse:
        """After a decision: the next item of the analyst's slice, or the queue when none is left."""
        with connection() as conn:
            share = claims.active_share_now(conn, settings.active_share, settings.active_young)
            claimed = claims.claim_next(conn, name, settings.lease_s, share, **working_slice(request))
            if claimed:
                claims.release(conn, name, keep=claimed["queue_id"])  # an item skipped with "n" is free again
        if not claimed:
            request.session["flash"] = (request.session.get("flash", "") + " Nothing left to review in your filter.").strip()
            return RedirectResponse("/", status_code=303)
        return RedirectResponse(f"/item/{claimed['queue_id']}", status_code=303)

    def login_token(request: Request) -> str:
        """Logging in needs a form token too: an outside page must not sign a colleague into its own account."""
        token = request.session.get("login_csrf")
        if not token:
            token = request.session["login_csrf"] = secrets.token_urlsafe(32)
        return token

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        return render(request, "login.html", error=None, login_csrf=login_token(request))

    @app.post("/login")
    def login(request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form("")):
        expected = request.session.get("login_csrf", "")
        if not expected or not hmac.compare_digest(expected, csrf_token):
            response = render(request, "login.html", error="The login form expired: please try again.",
                              login_csrf=login_token(request))
            response.status_code = 403
            return response
        address = request.client.host if request.client else "-"
        attempt = throttle.keys(username, address)
        with connection() as conn:  # committed before the password is checked: the attempt counts at once
            wait = throttle.reserve(conn, attempt)
        if wait:
            response = render(request, "login.html", error=f"Too many failed logins: try again in {wait} s.",
                              login_csrf=login_token(request))
            response.status_code = 429
            response.headers["Retry-After"] = str(wait)
            return response
        with connection() as conn:
            found = accounts.authenticate(conn, username[:200], password[:1000])
            if found:
                throttle.succeeded(conn, attempt)
                token = sessions.start(conn, found["id"], found["role"], address,
                                       request.headers.get("user-agent"))
        if not found:
            return render(request, "login.html", error="Wrong name or password.", login_csrf=login_token(request))
        request.session.clear()  # a new session: nothing from before the login carries over
        request.session.update(sid=token, csrf=secrets.token_urlsafe(32))
        return RedirectResponse("/", status_code=303)

    @app.post("/logout", dependencies=[Depends(csrf)])
    def logout(request: Request, current=Depends(user)):
        with connection() as conn:
            claims.release(conn, current["name"])  # nobody waits for the lease on what they held
            sessions.end(conn, request.session.get("sid"), "logout")
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    def queue(request: Request, site: str | None = None, country: str | None = None, group: str | None = None,
              language: str | None = None, month: str | None = None, q: str | None = None, sort: str = "ranker",
              clear: str = "", current=Depends(user)):
        filters = {"site": site or None, "country": (country or "").upper() or None, "group": group or None,
                   "language": language or None, "month": month or None, "q": (q or "").strip()[:200] or None}
        # Checked before they stick in the session: a bad filter must not break every later queue page.
        inputs.no_nul(*filters.values(), sort)
        inputs.month(filters["month"], optional=True)
        if not any(filters.values()) and not clear:
            filters.update(working_slice(request))  # back on the queue, the analyst's filter still holds
        request.session["slice"] = {k: v for k, v in filters.items() if v}
        sort = sort if sort in repository.SORTS else "ranker"
        if sort == "keywords" and not is_supervisor(current):
            sort = "ranker"  # keyword order puts everything under the threshold last: the audit sample
        # Nothing is released here (a GET changes nothing): the item page lets go of an item the analyst
        # leaves (its beacon), and a lease ends by itself.
        with connection() as conn:
            rows = repository.queue_page(conn, **filters, sort=sort)
            choices = repository.filter_choices(conn, list(keyword_groups()))
            progress = repository.progress(conn, current["name"], **filters)
        return render(request, "queue.html", groups=neardup.group(rows), filters=filters, sort=sort,
                      choices=choices, progress=progress, labels=keyword_groups(),
                      query={k: v for k, v in filters.items() if v})

    def group_ids(ids: str) -> list[int]:
        try:
            out = list(dict.fromkeys(int(x) for x in ids.split(",") if x.strip()))
        except ValueError:
            raise HTTPException(status_code=400, detail="ids: queue item numbers, comma-separated") from None
        if not 1 <= len(out) <= 100:
            raise HTTPException(status_code=400, detail="a group is 1 to 100 items")
        return out

    @app.get("/group", response_class=HTMLResponse)
    def group_page(request: Request, ids: str, current=Depends(user)):
        """Near-identical items side by side: the analyst sees each before deciding for all of them."""
        with connection() as conn:
            rows = repository.items_brief(conn, group_ids(ids))
        # Pre-filled as on an item page when the group's keywords name one product group.
        groups = sorted({g for r in rows for g in r["groups"]})
        return render(request, "group.html", rows=rows, ids=",".join(str(r["id"]) for r in rows),
                      decisions=claims.DECISIONS, suggested_group=groups[0] if len(groups) == 1 else "")

    @app.post("/group/decide", dependencies=[Depends(csrf)])
    def decide_group(request: Request, ids: str = Form(...), decision: str = Form(...), product_group: str = Form(""),
                     species: str = Form(""), note: str = Form(""), current=Depends(user)):
        if decision not in claims.DECISIONS:
            raise HTTPException(status_code=400, detail="unknown decision")
        group = product_group.strip()[:100] or None
        with connection() as conn:
            decided, skipped = claims.decide_group(conn, group_ids(ids), current["name"], decision, group,
                                                   species.strip()[:200] or None, note[:2000] or None,
                                                   second_review=settings.second_review, lease_s=settings.lease_s)
        group = claims.classified(decision, group, None)[0]
        request.session["flash"] = (f"Recorded {decision.replace('_', ' ')}" + (f" ({group})" if group else "")
                                    + f" on {len(decided)} items ({', '.join(map(str, decided)) or 'none'})."
                                    + (f" Not yours to decide, left as they were: {', '.join(map(str, skipped))}."
                                       if skipped else ""))
        return advance(request, current["name"])  # on to the next item, as after any decision

    @app.get("/mine", response_class=HTMLResponse)
    def my_decisions(request: Request, current=Depends(user)):
        with connection() as conn:
            rows = repository.my_decisions(conn, current["name"])
            progress = repository.progress(conn, current["name"], **working_slice(request))
        return render(request, "mine.html", rows=rows, progress=progress, groups=keyword_groups())

    @app.post("/next", dependencies=[Depends(csrf)])
    def next_item(request: Request, current=Depends(user)):
        return advance(request, current["name"])

    def is_supervisor(current: dict) -> bool:
        return current["role"] in ("supervisor", "admin")

    def supervisor(current=Depends(user)) -> dict:
        if not is_supervisor(current):
            raise HTTPException(status_code=403, detail="for supervisors")
        return current

    @app.get("/item/{queue_id}", response_class=HTMLResponse)
    def show_item(request: Request, queue_id: int, current=Depends(user)):
        with connection() as conn:
            row = repository.item(conn, queue_id)
            if row is None:
                raise HTTPException(status_code=404)
            if not is_supervisor(current):
                row["status"] = blind.status(row["status"])
            # Second reviews are blind: only supervisors see earlier decisions.
            earlier = quality.decisions(conn, queue_id) if is_supervisor(current) else []
            mine = claims.latest_decision(conn, queue_id, current["name"])
            ranking = explain_ranking(conn, row, groups=keyword_groups())
            linked = network_queries.linked_offers(conn, row["id"])
        spans = {"title": [], "description": [], "seller": [], "replies": [], "photo_text": []}
        for m in row["matches"]:
            spans.setdefault(m["field"], []).append((m["span_start"], m["span_end"], m["product_group"]))
        for c in row["contacts"]:
            spans[c["field"]].append((c["span_start"], c["span_end"], f"contact: {contact_label(c)}"))
        settle = is_supervisor(current) and row["status"] == "escalated"
        correct = is_supervisor(current) and row["status"] == "decided"
        groups = sorted({m["product_group"] for m in row["matches"]})
        return render(request, "item.html", item=row, title_parts=segments(row["title"], spans["title"]),
                      description_parts=segments(row["description"], spans["description"]),
                      decisions=claims.DECISIONS, held=row["claimed_by"] == current["name"] and row["status"] == "claimed",
                      settle=settle, correct=correct, earlier=earlier, mine=mine,
                      suggested_group=groups[0] if len(groups) == 1 else "",
                      ranking=ranking, linked=linked, network_id=linked[0]["network_id"] if linked else None,
                      seller_parts=segments(row["seller"], spans["seller"]),
                      replies_parts=segments(row["replies"], spans["replies"]) if row.get("replies") else None,
                      photo_text_parts=segments(row["photo_text"], spans["photo_text"]) if row.get("photo_text") else None)

    @app.post("/item/{queue_id}/decide", dependencies=[Depends(csrf)])
    def decide(request: Request, queue_id: int, decision: str = Form(...), product_group: str = Form(""),
               species: str = Form(""), note: str = Form(""), current=Depends(user)):
        group = product_group.strip()[:100] or None
        try:
            with connection() as conn:
                claims.decide(conn, queue_id, current["name"], decision, group, species.strip()[:200] or None,
                              note[:2000] or None, second_review=settings.second_review, final=is_supervisor(current))
        except claims.ClaimError as exc:
            with connection() as conn:
                mine = claims.latest_decision(conn, queue_id, current["name"])
            if mine is None:
                response = render(request, "error.html", heading="Not recorded", message=str(exc))
                response.status_code = 409
                return response
            # A second press on an item already decided (a double click, a key held): nothing changes.
            request.session["flash"] = f"Item {queue_id} was already decided: {mine.replace('_', ' ')}. Nothing changed."
        else:
            group = claims.classified(decision, group, None)[0]
            request.session["flash"] = (f"Recorded on item {queue_id}: {decision.replace('_', ' ')}"
                                        + (f" ({group})" if group else "") + ".")
            request.session["undo"] = {"id": queue_id, "until": time.time() + settings.undo_s}
        return advance(request, current["name"])

    @app.post("/item/{queue_id}/correct", dependencies=[Depends(csrf)])
    def correct_decision(request: Request, queue_id: int, decision: str = Form(...), reason: str = Form(""),
                         product_group: str = Form(""), species: str = Form(""), current=Depends(supervisor)):
        try:
            with connection() as conn:
                done = claims.correct(conn, queue_id, current["name"], decision, reason[:2000],
                                      product_group.strip()[:100] or None, species.strip()[:200] or None)
        except claims.ClaimError as exc:
            raise HTTPException(status_code=409, detail=str(exc)) from exc
        sent = [r["id"] for r in done["referrals"] if r["status"] in ("sent", "acknowledged", "closed")]
        request.session["flash"] = (f"Corrected item {queue_id}: {done['before'].replace('_', ' ')} → "
                                    f"{decision.replace('_', ' ')}."
                                    + (f" Referral(s) {', '.join(map(str, sent))} went out already: their pages list "
                                       "this correction for the recipient." if sent else ""))
        return RedirectResponse(f"/item/{queue_id}", status_code=303)

    @app.post("/item/{queue_id}/undo", dependencies=[Depends(csrf)])
    def undo_decision(request: Request, queue_id: int, back: str = Form("/"), current=Depends(user)):
        try:
            with connection() as conn:
                withdrawn = claims.undo(conn, queue_id, current["name"], settings.undo_s, settings.lease_s)
        except claims.ClaimError as exc:
            request.session["flash"] = f"Not undone: {exc}."
            request.session["flash_kind"] = "error"
            # Back to the page the analyst was on (the next item they now hold), not away from it.
            return RedirectResponse(back if re.fullmatch(r"/(item/[0-9]{1,18})?", back) else "/", status_code=303)
        request.session["flash"] = f"Undone: your decision on item {queue_id} ({withdrawn.replace('_', ' ')}) is withdrawn."
        return RedirectResponse(f"/item/{queue_id}", status_code=303)

    @app.post("/item/{queue_id}/release", dependencies=[Depends(csrf)])
    def release_item(request: Request, queue_id: int, current=Depends(user)):
        """Sent by the item page when the analyst follows a link away from an item they hold."""
        with connection() as conn:
            claims.release(conn, current["name"], queue_id)
        return Response(status_code=204)

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, user_name: str | None = None, action: str | None = None,
                   entity: str | None = None, current=Depends(user)):
        # Analysts see their own trail; supervisors and admins everyone's.
        who = (user_name or None) if is_supervisor(current) else current["name"]
        with connection() as conn:
            rows = audit.entries(conn, who, action or None, entity or None)
        if not is_supervisor(current):
            rows = [blind.audit_entry(r, current["name"]) for r in rows]
        return render(request, "audit.html", rows=rows, filters={"user_name": who, "action": action, "entity": entity})

    @app.get("/supervisor", response_class=HTMLResponse)
    def supervisor_page(request: Request, current=Depends(supervisor)):
        with connection() as conn:
            return render(request, "supervisor.html", escalated=quality.escalated(conn),
                          disagreements=quality.disagreements(conn), agreement=quality.agreement_by_analyst(conn),
                          second_review=settings.second_review)

    @app.get("/export")
    def export_confirmed(request: Request, format: str = "csv", month: str | None = None, site: str | None = None,
                         country: str | None = None, current=Depends(user)):
        if current["role"] not in ("supervisor", "admin"):
            raise HTTPException(status_code=403, detail="exports are for supervisors")
        if format not in ("csv", "json"):
            raise HTTPException(status_code=400, detail="format is csv or json")
        inputs.month(month, optional=True)
        inputs.no_nul(site, country)
        filters = {"month": month or None, "site": site or None, "country": country or None}
        with connection() as conn:
            rows = export.confirmed(conn, **filters)
            record(conn, current["name"], "export", "export", None, None, {"format": format, **filters,
                                                                            "rows": len(rows)})
        body = export.to_csv(rows) if format == "csv" else export.to_json(rows)
        name = f"wildwatch-confirmed-{month or 'all'}.{format}"
        media = "text/csv; charset=utf-8" if format == "csv" else "application/json"
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @app.get("/evidence/{evidence_id}")
    def show_evidence(evidence_id: int, current=Depends(user)):
        with connection() as conn:
            row = repository.evidence(conn, evidence_id)
        if row is None or not row["sha256"]:
            raise HTTPException(status_code=404)
        try:
            data = open_store(evidence_store).get(row["sha256"])
        except EvidenceMissing as exc:
            raise HTTPException(status_code=404, detail="evidence file missing from the store") from exc
        except EvidenceAltered as exc:
            raise HTTPException(status_code=500, detail="evidence file altered since capture "
                                                        "(wildwatch evidence verify names it)") from exc
        if row["kind"] == "screenshot":
            return Response(data, media_type="image/png")
        url, _, body = warc.read_response(data)
        captured_type = warc.content_type(data)
        if readable.is_data(body, captured_type):
            body = readable.data_page(body, url)  # a JSON answer: indented and escaped, never parsed as HTML
            content_type = "text/html; charset=utf-8"
        else:
            # The bytes as captured, in the charset they were captured with (a cp1252 page stays cp1252).
            charset = readable.page_charset(body, captured_type)
            content_type = f"text/html; charset={charset}" if charset else "text/html"
        # Hostile HTML, shown only framed by our own page: no scripts, no plugins, no requests, no origin.
        return Response(body, headers={
            "Content-Type": content_type,
            "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                       "frame-ancestors 'self'",
            "X-Frame-Options": "SAMEORIGIN"})

    network_routes.add(app, user=user, supervisor=supervisor, csrf=csrf, connection=connection, render=render,
                       evidence_store=evidence_store, referrals_dir=referrals_dir)
    report_routes.add(app, supervisor=supervisor, csrf=csrf, connection=connection, render=render,
                      reports_dir=settings.reports_dir or base.reports_dir, database_url=settings.database_url)
    hand_routes.add(app, user=user, csrf=csrf, connection=connection, render=render, evidence_store=evidence_store,
                    second_review=settings.second_review, lease_s=settings.lease_s)
    referral_routes.add(app, supervisor=supervisor, csrf=csrf, connection=connection, render=render,
                        evidence_store=evidence_store, referrals_dir=referrals_dir, four_eyes=settings.four_eyes)

    @app.get("/photo/{photo_id}")
    def photo(photo_id: int, current=Depends(user)):
        return _photo(photo_id, thumbnail=False)

    @app.get("/photo/{photo_id}/thumb")
    def photo_thumbnail(photo_id: int, current=Depends(user)):
        return _photo(photo_id, thumbnail=True)

    def _photo(photo_id: int, thumbnail: bool) -> Response:
        # Served from our own store only, with the type its bytes were checked to be: a listing's photo
        # addresses are never hot-linked, and nothing stored here decodes as anything but an image.
        with connection() as conn:
            row = repository.photo(conn, photo_id)
        sha = row and (row["thumb_sha256"] if thumbnail else row["sha256"])
        if not sha:
            raise HTTPException(status_code=404)
        try:
            data = open_store(evidence_store).get(sha.strip())
        except EvidenceMissing as exc:
            raise HTTPException(status_code=404, detail="photo missing from the evidence store") from exc
        except EvidenceAltered as exc:
            raise HTTPException(status_code=500, detail="photo altered since capture "
                                                        "(wildwatch evidence verify names it)") from exc
        return Response(data, media_type="image/jpeg" if thumbnail else row["media_type"],
                        headers={"Content-Security-Policy": "default-src 'none'; sandbox",
                                 "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})

    @app.get("/favicon.ico")
    def favicon(current=Depends(user)):
        return Response(status_code=204)

    @app.get("/static/{name}")
    def static(name: str):
        """The app's own style sheet and script: public (the login page is styled too); nothing else."""
        path = STATIC / name
        if name not in {p.name for p in STATIC.iterdir()}:
            raise HTTPException(status_code=404)
        return FileResponse(path)

    return app
