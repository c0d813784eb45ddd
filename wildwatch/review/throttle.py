"""Login throttling that holds when guesses arrive at once.

Each attempt is reserved before its password is checked, in one transaction that locks the attempt's rows:
thirty guesses sent together are counted one after another, and only those within the limit are checked.
Keys are per account *from an address* and per address, never per account alone: five wrong guesses slow
that account from that address, while its owner logging in from elsewhere, and colleagues behind the same
office address, are not locked out. Spread-out guessing against one account meets each address's limit and
argon2's cost; an account-wide lockout would hand any stranger a way to lock analysts out.
"""
from __future__ import annotations

import math

WINDOW_S = 15 * 60
MAX_DELAY_S = 300
FREE = {"acct": 5, "addr": 30}  # failures within the window before each further try must wait


def keys(name: str, address: str) -> list[str]:
    return [f"acct:{name[:64]}@{address}", f"addr:{address}"]


def _free(key: str) -> int:
    return FREE[key.split(":", 1)[0]]


def _delay(failures: int, free: int) -> float:
    return min(MAX_DELAY_S, 2 ** (failures - free + 1)) if failures >= free else 0


def reserve(conn, attempt_keys: list[str]) -> int:
    """0 when this attempt may be checked (it counts as a failure until `succeeded`), else the seconds to wait.
    Commit right after: the rows stay locked until then."""
    attempt_keys = sorted(set(attempt_keys))  # one lock order for everyone: no deadlocks
    with conn.cursor() as cur:
        for key in attempt_keys:
            cur.execute("INSERT INTO login_throttle (key) VALUES (%s) ON CONFLICT (key) DO NOTHING", (key,))
        cur.execute("""SELECT key, failures, window_start < now() - make_interval(secs => %s),
                              coalesce(extract(epoch FROM blocked_until - now()), 0)
                       FROM login_throttle WHERE key = ANY(%s) ORDER BY key FOR UPDATE""", (WINDOW_S, attempt_keys))
        rows = cur.fetchall()
        waits = [float(left) for key, failures, expired, left in rows
                 if not expired and failures >= _free(key) and left > 0]
        wait = max(waits, default=0.0)
        if wait > 0:
            return math.ceil(wait)
        for key, failures, expired, _ in rows:
            count = 1 if expired else failures + 1
            cur.execute("""UPDATE login_throttle SET failures = %s,
                                  window_start = CASE WHEN %s THEN now() ELSE window_start END,
                                  blocked_until = now() + make_interval(secs => %s)
                           WHERE key = %s""", (count, expired, _delay(count, _free(key)), key))
    return 0


def succeeded(conn, attempt_keys: list[str]) -> None:
    """The reserved attempt was right: the account's count from this address starts again, and the address
    gets back the try it reserved."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM login_throttle WHERE key = ANY(%s) AND key LIKE 'acct:%%'", (attempt_keys,))
        cur.execute("""UPDATE login_throttle SET failures = greatest(failures - 1, 0), blocked_until = NULL
                       WHERE key = ANY(%s) AND key LIKE 'addr:%%'""", (attempt_keys,))
