"""Review-app accounts: roles and argon2 password hashes."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from wildwatch.review import sessions
from wildwatch.review.audit import record

ROLES = ("analyst", "supervisor", "admin")
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()


class AccountError(ValueError):
    pass


def add_user(conn, name: str, role: str, password: str, by: str = "cli") -> int:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM users WHERE name = %s", (name,))
        if cur.fetchone():
            raise AccountError(f"user {name!r} exists already")
        cur.execute("INSERT INTO users (name, role, password_hash) VALUES (%s, %s, %s) RETURNING id",
                    (name, role, _hasher.hash(password)))
        user_id = cur.fetchone()[0]
    record(conn, by, "user_add", "user", user_id, None, {"name": name, "role": role})
    return user_id


def authenticate(conn, name: str, password: str) -> dict | None:
    """The user when name and password match and the account is enabled; None otherwise."""
    with conn.cursor() as cur:
        cur.execute("SELECT id, name, role, password_hash, disabled FROM users WHERE name = %s", (name,))
        row = cur.fetchone()
    if row is None:
        _hasher.hash(password)  # same work either way: no user enumeration by timing
        return None
    user_id, user_name, role, password_hash, disabled = row
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if disabled:
        return None
    return {"id": user_id, "name": user_name, "role": role}


def _user(conn, name: str) -> tuple[int, str, bool]:
    with conn.cursor() as cur:
        cur.execute("SELECT id, role, disabled FROM users WHERE name = %s", (name,))
        row = cur.fetchone()
    if row is None:
        raise AccountError(f"no user {name!r}")
    return row


def set_disabled(conn, name: str, disabled: bool, by: str = "cli") -> int:
    """Disables (or enables) an account; disabling ends its sessions at once. Returns the sessions ended."""
    user_id, _, was = _user(conn, name)
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET disabled = %s WHERE id = %s", (disabled, user_id))
    ended = sessions.end_all(conn, user_id, "account disabled") if disabled else 0
    record(conn, by, "user_disable" if disabled else "user_enable", "user", user_id, {"disabled": was},
           {"disabled": disabled, "sessions_ended": ended})
    return ended


def set_role(conn, name: str, role: str, by: str = "cli") -> int:
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    user_id, was, _ = _user(conn, name)
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET role = %s WHERE id = %s", (role, user_id))
    ended = sessions.end_all(conn, user_id, "role changed") if role != was else 0
    record(conn, by, "user_role", "user", user_id, {"role": was}, {"role": role, "sessions_ended": ended})
    return ended


def set_password(conn, name: str, password: str, by: str = "cli") -> int:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user_id, _, _ = _user(conn, name)
    with conn.cursor() as cur:
        cur.execute("UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s",
                    (_hasher.hash(password), user_id))
    ended = sessions.end_all(conn, user_id, "password changed")
    record(conn, by, "user_password", "user", user_id, None, {"sessions_ended": ended})
    return ended


def end_sessions(conn, name: str, by: str = "cli") -> int:
    user_id, _, _ = _user(conn, name)
    ended = sessions.end_all(conn, user_id, f"ended by {by}")
    record(conn, by, "sessions_end", "user", user_id, None, {"sessions_ended": ended})
    return ended


def list_users(conn) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute("""SELECT u.name, u.role, u.disabled, u.created_at,
                              (SELECT max(last_seen_at) FROM review_sessions s WHERE s.user_id = u.id)
                       FROM users u ORDER BY u.name""")
        return [dict(zip(("name", "role", "disabled", "created", "last_seen"), r, strict=True)) for r in cur.fetchall()]
