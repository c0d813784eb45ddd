"""Review sessions kept on the server. The cookie carries a random token; the server keeps its hash, and every
request checks it: ended (logout, `wildwatch users end-sessions`), idle too long, too old, an account disabled,
its role changed or its password changed since. A copied cookie stops working with the session it names."""
from __future__ import annotations

import hashlib
import secrets

TOUCH_EVERY_S = 60  # last_seen_at is written at most once a minute per session: no write per page


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(conn, user_id: int, role: str, address: str | None, user_agent: str | None) -> str:
    token = secrets.token_urlsafe(32)
    with conn.cursor() as cur:
        cur.execute("""INSERT INTO review_sessions (id, user_id, role, address, user_agent)
                       VALUES (%s, %s, %s, %s, %s)""", (_hash(token), user_id, role, address, (user_agent or "")[:300]))
    return token


def current(conn, token: str | None, idle_s: int, absolute_s: int) -> dict | None:
    """The signed-in user ({id, name, role}) or None, ending the session when it no longer holds."""
    if not token or not isinstance(token, str):
        return None
    with conn.cursor() as cur:
        cur.execute("""SELECT s.user_id, u.name, u.role, s.role, u.disabled, s.ended_at IS NOT NULL,
                              s.last_seen_at < now() - make_interval(secs => %s),
                              s.created_at < now() - make_interval(secs => %s),
                              u.password_changed_at > s.created_at,
                              s.last_seen_at < now() - make_interval(secs => %s)
                       FROM review_sessions s JOIN users u ON u.id = s.user_id WHERE s.id = %s""",
                    (idle_s, absolute_s, TOUCH_EVERY_S, _hash(token)))
        row = cur.fetchone()
        if row is None:
            return None
        user_id, name, role, session_role, disabled, ended, idle, too_old, new_password, stale = row
        if ended:
            return None
        reason = ("account disabled" if disabled else "role changed" if role != session_role else
                  "expired" if too_old else "idle" if idle else "password changed" if new_password else None)
        if reason:
            cur.execute("UPDATE review_sessions SET ended_at = now(), ended_reason = %s WHERE id = %s",
                        (reason, _hash(token)))
            return None
        if stale:
            cur.execute("UPDATE review_sessions SET last_seen_at = now() WHERE id = %s", (_hash(token),))
    return {"id": user_id, "name": name, "role": role}


def end(conn, token: str | None, reason: str) -> None:
    if token and isinstance(token, str):
        with conn.cursor() as cur:
            cur.execute("""UPDATE review_sessions SET ended_at = now(), ended_reason = %s
                           WHERE id = %s AND ended_at IS NULL""", (reason, _hash(token)))


def end_all(conn, user_id: int, reason: str) -> int:
    with conn.cursor() as cur:
        cur.execute("""UPDATE review_sessions SET ended_at = now(), ended_reason = %s
                       WHERE user_id = %s AND ended_at IS NULL""", (reason, user_id))
        return cur.rowcount


def active(conn, idle_s: int, absolute_s: int, name: str | None = None) -> list[dict]:
    """Sessions still usable (newest first), for administrators: who, since when, last seen, from where."""
    with conn.cursor() as cur:
        cur.execute("""SELECT u.name, s.role, s.created_at, s.last_seen_at, s.address, s.user_agent,
                              left(s.id, 12)
                       FROM review_sessions s JOIN users u ON u.id = s.user_id
                       WHERE s.ended_at IS NULL AND (%s::text IS NULL OR u.name = %s) AND NOT u.disabled
                         AND s.last_seen_at > now() - make_interval(secs => %s)
                         AND s.created_at > now() - make_interval(secs => %s)
                       ORDER BY s.last_seen_at DESC""", (name, name, idle_s, absolute_s))
        keys = ("user", "role", "started", "last_seen", "address", "user_agent", "session")
        return [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]
