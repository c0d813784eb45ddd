"""Sessions and logins as an attacker and a careless colleague try them: guesses sent at once, a forwarded
address made up, a copied cookie after logout, after the account was disabled, demoted or given a new
password, an outside page signing a colleague in, and the administrator's `wildwatch users` commands."""
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from helpers import sign_in
from wildwatch.review import accounts, throttle
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"


@pytest.fixture
def app(conn, database_url):
    with conn:
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
        accounts.add_user(conn, "sam", "supervisor", PASSWORD)
    return create_app(ReviewSettings(secret_key="s" * 40, database_url=database_url))


def client(app, address: str = "10.0.0.1") -> TestClient:
    return TestClient(app, client=(address, 40000))


def signed_in(app, name: str = "amina", address: str = "10.0.0.1") -> TestClient:
    c = client(app, address)
    assert sign_in(c, name, PASSWORD, follow_redirects=False).status_code == 303
    return c


def copy_of(c: TestClient, app) -> TestClient:
    """Another browser holding the same cookie (copied from the first, as a thief would)."""
    other = client(app, "10.0.0.66")
    other.cookies.set("wildwatch_session", c.cookies.get("wildwatch_session"))
    return other


def token_of(c: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', c.get("/").text).group(1)


def lands_on_login(c: TestClient) -> bool:
    response = c.get("/", follow_redirects=False)
    return response.status_code == 303 and response.headers["location"] == "/login"


def test_thirty_guesses_sent_at_once_are_checked_at_most_five_times(app):
    page = client(app).get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    cookie = page.cookies.get("wildwatch_session") or client(app).cookies.get("wildwatch_session")

    def guess(i: int) -> int:
        c = client(app)
        c.cookies.set("wildwatch_session", cookie)
        return c.post("/login", data={"username": "amina", "password": f"guess {i}", "csrf_token": token}).status_code

    with ThreadPoolExecutor(30) as pool:
        codes = list(pool.map(guess, range(30)))
    checked = codes.count(200)  # "Wrong name or password": the guess was checked
    assert checked <= throttle.FREE["acct"] and codes.count(429) == 30 - checked, codes


def test_a_made_up_forwarded_address_is_not_believed_and_other_addresses_still_log_in(app):
    guesser = client(app, "10.0.0.1")
    for i in range(throttle.FREE["acct"]):
        token = re.search(r'name="csrf_token" value="([^"]+)"', guesser.get("/login").text).group(1)
        guesser.post("/login", data={"username": "amina", "password": "wrong", "csrf_token": token},
                     headers={"X-Forwarded-For": f"192.0.2.{i}"})
    blocked = sign_in(guesser, "amina", PASSWORD, headers={"X-Forwarded-For": "192.0.2.99"})
    assert blocked.status_code == 429  # every guess came from 10.0.0.1, whatever the header said
    # The owner, from her own address, and a colleague behind the guesser's address are not locked out.
    assert sign_in(client(app, "10.0.0.2"), "amina", PASSWORD, follow_redirects=False).status_code == 303
    assert sign_in(client(app, "10.0.0.1"), "sam", PASSWORD, follow_redirects=False).status_code == 303


def test_a_proxy_named_in_the_settings_is_believed(conn, database_url):
    with conn:
        accounts.add_user(conn, "amina", "analyst", PASSWORD)
    app = create_app(ReviewSettings(secret_key="s" * 40, database_url=database_url, trusted_proxies=("10.9.9.9",)))
    proxy = client(app, "10.9.9.9")
    for _ in range(throttle.FREE["acct"]):
        token = re.search(r'name="csrf_token" value="([^"]+)"', proxy.get("/login").text).group(1)
        proxy.post("/login", data={"username": "amina", "password": "wrong", "csrf_token": token},
                   headers={"X-Forwarded-For": "198.51.100.7"})
    assert sign_in(proxy, "amina", PASSWORD, headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    # Another client behind the same proxy is another address.
    assert sign_in(proxy, "amina", PASSWORD, headers={"X-Forwarded-For": "198.51.100.8"},
                   follow_redirects=False).status_code == 303


def test_a_copied_cookie_stops_working_at_logout(app):
    c = signed_in(app)
    thief = copy_of(c, app)
    assert thief.get("/").status_code == 200
    c.post("/logout", data={"csrf_token": token_of(c)})
    assert lands_on_login(thief)


@pytest.mark.parametrize("change", ["disable", "demote", "password", "end"])
def test_a_copied_cookie_stops_working_when_the_account_changes(app, conn, change):
    c = signed_in(app, "sam")
    thief = copy_of(c, app)
    assert thief.get("/supervisor").status_code == 200
    with conn:
        if change == "disable":
            accounts.set_disabled(conn, "sam", True, by="admin")
        elif change == "demote":
            accounts.set_role(conn, "sam", "analyst", by="admin")
        elif change == "password":
            accounts.set_password(conn, "sam", "a brand new long secret", by="sam")
        else:
            accounts.end_sessions(conn, "sam", by="admin")
    assert lands_on_login(thief) and lands_on_login(c)
    if change == "demote":  # logged in again, the new role holds
        again = signed_in(app, "sam")
        assert again.get("/supervisor", follow_redirects=False).status_code == 403


def test_sessions_end_when_idle_and_when_too_old_however_busy(app, conn):
    idle, busy = signed_in(app), signed_in(app, "sam")
    with conn, conn.cursor() as cur:
        cur.execute("""UPDATE review_sessions SET last_seen_at = now() - interval '31 minutes'
                       WHERE user_id = (SELECT id FROM users WHERE name = 'amina')""")
        cur.execute("""UPDATE review_sessions SET created_at = now() - interval '9 hours'
                       WHERE user_id = (SELECT id FROM users WHERE name = 'sam')""")
    assert lands_on_login(idle) and lands_on_login(busy)
    with conn.cursor() as cur:
        cur.execute("SELECT ended_reason FROM review_sessions ORDER BY ended_reason")
        assert [r[0] for r in cur.fetchall()] == ["expired", "idle"]


def test_an_outside_page_cannot_sign_a_colleague_in(app):
    c = client(app)
    forged = c.post("/login", data={"username": "amina", "password": PASSWORD}, follow_redirects=False)
    assert forged.status_code == 403 and "login form expired" in forged.text
    assert lands_on_login(c)


def test_administrators_list_and_end_sessions_from_the_command_line(app, conn, database_url):
    signed_in(app)
    thief_source = signed_in(app, "amina", "10.0.0.7")
    env = {"WILDWATCH_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}

    def users(*args, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "wildwatch.cli", "users", *args, "--user", "root-admin"],
                              env=env, input=stdin, capture_output=True, text=True, timeout=60)

    listed = users("sessions", "amina")
    assert listed.returncode == 0 and listed.stdout.count("amina") == 2 and "10.0.0.7" in listed.stdout
    ended = users("end-sessions", "amina")
    assert ended.returncode == 0 and "2 session(s) ended" in ended.stdout
    assert lands_on_login(thief_source)
    assert "no open sessions" in users("sessions").stdout
    assert users("role", "amina", "--role", "supervisor").returncode == 0
    assert users("disable", "nobody").returncode == 1
    assert "amina" in users("list").stdout and "supervisor" in users("list").stdout
    with conn.cursor() as cur:
        cur.execute("SELECT action FROM audit_log WHERE user_name = 'root-admin' ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == ["sessions_end", "user_role"]
