"""Every route of the review app, walked with hostile values in every path segment, query parameter and form
field, signed in as an administrator (who reaches every page): the answer is never a server error, and an
error is a readable page with a way back (JSON only for a client that asks for JSON)."""
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from helpers import seed_site_and_run, sign_in
from wildwatch.review import accounts
from wildwatch.review.app import create_app
from wildwatch.review.settings import ReviewSettings

PASSWORD = "correct horse battery"
HOSTILE = ["a\x00b", "9" * 30, "-1", "２０２６-１１", "2026-13", "%ff%fe", "%ED%B3%BF", "x" * 5000, "<script>1</script>",
           "../../etc/passwd", "1,2,\x00", " "]
# In parameters, the values that have broken parsers and queries before (all of HOSTILE in paths and forms).
QUERY_HOSTILE = ["a\x00b", "%ff%fe", "２０２６-１１", "9" * 30]
FORM = ["decision", "product_group", "species", "note", "reason", "ids", "status", "recipient_kind", "recipient",
        "month", "country", "agency", "username", "password"]


@pytest.fixture
def admin(conn, database_url, tmp_path):
    with conn, conn.cursor() as cur:
        site, run = seed_site_and_run(cur, "demo_tz", "TZ", "sw")
        cur.execute("INSERT INTO listings (site_id, url, title) VALUES (%s, 'http://x/1', 'Pembe') RETURNING id",
                    (site,))
        cur.execute("INSERT INTO review_queue (listing_id, run_id, priority) VALUES (%s, %s, 1)",
                    (cur.fetchone()[0], run))
        accounts.add_user(conn, "root", "admin", PASSWORD)
    app = create_app(ReviewSettings(secret_key="h" * 40, database_url=database_url, evidence_dir=tmp_path / "e",
                                    referrals_dir=tmp_path / "r", reports_dir=tmp_path / "reports"))
    client = TestClient(app, raise_server_exceptions=False)
    assert sign_in(client, "root", PASSWORD, follow_redirects=False).status_code == 303
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    return app, client, token


def routes(app):
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path not in ("/logout",):
            yield route


def encoded(value: str) -> str:
    """As sent on the wire; values written %xx are sent raw (invalid UTF-8 on purpose)."""
    from urllib.parse import quote

    return value if value.startswith("%") else quote(value, safe="")


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", encoded(value), path)


def test_no_route_answers_a_hostile_value_with_a_server_error(admin):
    app, client, token = admin
    seen = 0

    def check(route, method, answer, value):
        nonlocal seen
        seen += 1
        assert answer.status_code < 500, (method, route.path, repr(value)[:40], answer.status_code, answer.text[:300])
        if answer.status_code >= 400 and "html" in answer.headers.get("content-type", "") \
                and route.path != "/login":  # the login form is its own way back
            assert 'href="/"' in answer.text, (route.path, "an error page without a way back")

    for route in routes(app):
        # hostile path segments (a route without any: once), then hostile parameters on a plain path
        paths = [(fill(route.path, v), v) for v in HOSTILE] if "{" in route.path else [(route.path, "")]
        plain = fill(route.path, "1")
        for method in route.methods - {"HEAD"}:
            for url, value in paths:
                if method == "GET":
                    check(route, method, client.get(url, follow_redirects=False), value)
                else:
                    check(route, method, client.post(url, data={"csrf_token": token}, follow_redirects=False), value)
            # each route's own parameters (and one it does not know): the rest never reach its code
            own = [p.alias for p in route.dependant.query_params] + ["nothing"]
            for value in (QUERY_HOSTILE if method == "GET" else HOSTILE):
                if method == "GET":
                    for name in own:
                        check(route, method, client.get(f"{plain}?{name}={encoded(value)}", follow_redirects=False),
                              value)
                else:
                    form = {name: value for name in FORM}
                    check(route, method, client.post(plain, data={"csrf_token": token, **form},
                                                     follow_redirects=False), value)
    assert seen > 400
    # The queue still works afterwards: no hostile filter stuck in the session.
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("url, status", [
    ("/export?month=2026-13", 400), ("/export?month=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-11", 400),
    ("/?site=a%00b", 400), ("/item/99999999999999999999999", 404), ("/item/abc", 400), ("/nowhere", 404),
])
def test_bad_input_gets_a_readable_page_or_json_for_json_clients(admin, url, status):
    _, client, _ = admin
    page = client.get(url)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert 'href="/"' in page.text and "{&#34;detail" not in page.text and '{"detail"' not in page.text
    as_json = client.get(url, headers={"Accept": "application/json"})
    assert as_json.status_code == status and "detail" in as_json.json()


def test_a_report_month_that_does_not_exist_is_a_404_not_a_crash(admin):
    _, client, token = admin
    answer = client.post("/reports/2026-13/regenerate", data={"csrf_token": token})
    assert answer.status_code == 404 and 'href="/"' in answer.text


def test_a_missing_csrf_token_is_a_readable_page(admin):
    _, client, _ = admin
    answer = client.post("/next")
    assert answer.status_code == 403 and "CSRF" in answer.text and 'href="/"' in answer.text
