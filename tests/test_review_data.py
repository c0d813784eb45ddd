"""The review queue's data layer on a real PostgreSQL: accounts, leases, decisions, the append-only audit."""
import threading

import psycopg2
import pytest

from helpers import seed_site_and_run
from wildwatch.review import accounts, claims


def _seed(conn, n: int = 6) -> list[int]:
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur)
        ids = []
        for i in range(n):
            cur.execute("INSERT INTO listings (site_id, url, title) VALUES (%s, %s, %s) RETURNING id",
                        (site, f"http://x/{i}", f"item {i}"))
            listing = cur.fetchone()[0]
            cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, %s) RETURNING id",
                        (listing, run, float(i)))
            ids.append(cur.fetchone()[0])
    return ids


def drain_queue(database_url: str, analysts: list[str]) -> tuple[dict[str, list[int]], list[str]]:
    """Each analyst on its own connection and thread claims until nothing is left; the ids each got, and
    any error a thread hit (a thread cannot fail the test itself)."""
    got: dict[str, list[int]] = {name: [] for name in analysts}
    failures: list[str] = []

    def worker(name):
        c = psycopg2.connect(database_url)
        try:
            while True:
                with c:
                    item = claims.claim_next(c, name)
                if item is None:
                    return
                got[name].append(item["queue_id"])
        except Exception as exc:  # noqa: BLE001
            failures.append(repr(exc))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in analysts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got, failures


def test_passwords_are_argon2_hashed_and_checked(conn):
    with conn:
        accounts.add_user(conn, "amina", "analyst", "correct horse battery")
    with conn.cursor() as cur:
        cur.execute("SELECT password_hash FROM users WHERE name = 'amina'")
        assert cur.fetchone()[0].startswith("$argon2")
    assert accounts.authenticate(conn, "amina", "correct horse battery")["role"] == "analyst"
    assert accounts.authenticate(conn, "amina", "wrong password!!") is None
    assert accounts.authenticate(conn, "nobody", "correct horse battery") is None
    with pytest.raises(accounts.AccountError, match="at least"):
        accounts.add_user(conn, "bao", "analyst", "short")
    with pytest.raises(accounts.AccountError, match="role"):
        accounts.add_user(conn, "bao", "boss", "correct horse battery")


def test_two_analysts_asking_at_once_never_get_the_same_item(conn, database_url):
    _seed(conn, 40)
    got, _ = drain_queue(database_url, ["a", "b"])
    assert not set(got["a"]) & set(got["b"])
    assert len(got["a"]) + len(got["b"]) == 40


def test_highest_priority_first_and_an_expired_lease_returns_the_item(conn):
    ids = _seed(conn, 3)
    with conn:
        first = claims.claim_next(conn, "amina", lease_s=0)
    assert first["queue_id"] == ids[-1]  # priority 2.0
    with conn:
        again = claims.claim_next(conn, "bao")
    assert again["queue_id"] == ids[-1], "the lease ran out: the item is back"
    with pytest.raises(claims.ClaimError, match="not held by amina"):
        with conn:
            claims.decide(conn, again["queue_id"], "amina", "confirmed")


def test_decisions_and_claims_are_audited_and_unsure_goes_to_supervisors(conn):
    _seed(conn, 2)
    with conn:
        item = claims.claim_next(conn, "amina")
        claims.decide(conn, item["queue_id"], "amina", "unsure", note="looks like resin?")
        other = claims.claim_next(conn, "amina")
        claims.decide(conn, other["queue_id"], "amina", "confirmed", product_group="ivory", species="Loxodonta africana")
    with conn.cursor() as cur:
        cur.execute("SELECT status FROM review_queue ORDER BY id")
        assert sorted(r[0] for r in cur.fetchall()) == ["decided", "escalated"]
        cur.execute("SELECT action, user_name, after->>'status' FROM audit_log ORDER BY id")
        trail = cur.fetchall()
    assert [a for a, _, _ in trail] == ["claim", "decide", "claim", "decide"]
    assert all(u == "amina" for _, u, _ in trail)


def test_the_database_refuses_to_change_the_audit_trail(conn):
    _seed(conn, 1)
    with conn:
        claims.claim_next(conn, "amina")
    for statement in ("UPDATE audit_log SET user_name = 'someone else'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="append-only"):
            with conn, conn.cursor() as cur:
                cur.execute(statement)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), min(user_name) FROM audit_log")
        assert cur.fetchone() == (1, "amina")


def test_users_add_reads_the_password_from_stdin_and_never_echoes_it(crawl_env, conn):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "wildwatch.cli", "users", "add", "chloe", "--role", "supervisor"]
    out = subprocess.run(cmd, input="a long enough secret\n", capture_output=True, text=True, env=crawl_env)
    assert out.returncode == 0 and "a long enough secret" not in out.stdout + out.stderr
    assert accounts.authenticate(conn, "chloe", "a long enough secret")["role"] == "supervisor"
    dup = subprocess.run(cmd, input="a long enough secret\n", capture_output=True, text=True, env=crawl_env)
    assert dup.returncode == 1 and "exists already" in dup.stderr


def test_eight_workers_empty_ten_thousand_items_without_a_double_claim_or_a_loss(conn, database_url):
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur)
        cur.execute("""INSERT INTO listings (site_id, url, title)
                       SELECT %s, 'http://x/' || i, 'item ' || i FROM generate_series(1, 10000) i""", (site,))
        cur.execute("""INSERT INTO review_queue (listing_id, run_id, priority)
                       SELECT id, %s, random() * 10 FROM listings""", (run,))
    got, failures = drain_queue(database_url, [f"w{i}" for i in range(8)])
    assert failures == []
    claimed = [q for ids in got.values() for q in ids]
    assert len(claimed) == len(set(claimed)) == 10_000, "no item twice, none lost"
    assert all(got.values()), "every worker got work"
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE status = 'claimed'), count(*) FROM review_queue")
        assert cur.fetchone() == (10_000, 10_000)
        cur.execute("SELECT count(*) FROM audit_log WHERE action = 'claim'")
        assert cur.fetchone()[0] == 10_000
