"""Review-app accounts: roles and argon2 password hashes."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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


# Guessing is slowed, not blocked for good: after FREE_FAILURES failures within the window, each further try
# must wait a delay that doubles per failure, up to MAX_DELAY_S.
FREE_FAILURES = 5
WINDOW_S = 15 * 60
MAX_DELAY_S = 300


def retry_after(conn, keys: list[str]) -> int:
    """Seconds before another login attempt for these keys is allowed (0: now)."""
    with conn.cursor() as cur:
        cur.execute("""SELECT key, count(*), extract(epoch FROM now() - max(at)) FROM login_failures
                       WHERE key = ANY(%s) AND at > now() - make_interval(secs => %s) GROUP BY key""",
                    (keys, WINDOW_S))
        wait = 0.0
        for _key, failures, since_last in cur.fetchall():
            if failures >= FREE_FAILURES:
                delay = min(MAX_DELAY_S, 2 ** (failures - FREE_FAILURES + 1))
                wait = max(wait, delay - float(since_last))
    return max(0, int(wait + 0.999))


def record_failure(conn, keys: list[str]) -> None:
    with conn.cursor() as cur:
        for key in keys:
            cur.execute("INSERT INTO login_failures (key) VALUES (%s)", (key,))
        cur.execute("DELETE FROM login_failures WHERE at < now() - make_interval(secs => %s)", (WINDOW_S,))


def clear_failures(conn, keys: list[str]) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM login_failures WHERE key = ANY(%s)", (keys,))
