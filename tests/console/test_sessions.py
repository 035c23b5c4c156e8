"""Signing in and out of the console (API.md, Admin console)."""

import re
from datetime import timedelta

from invoicing.console import sessions
from invoicing.core.times import now
from invoicing.db import housekeeping
from invoicing.db.query import Query
from tests.conftest import create_token, run
from tests.console.conftest import Console, csrf_of, replace_cookie
from tests.helpers import create_invoice, create_order


def test_pages_need_a_session(client):
    for path in ("/admin", "/admin/invoices", "/admin/invoices/" + "0" * 24):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/sign-in?next=")


def test_sign_in_with_an_admin_token(client):
    _, secret = create_token(client, "Bookkeeper", "admin")
    console = Console(client, secret)
    response = console.sign_in()
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    assert "invoicing_console=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    page = console.get("/admin")
    assert page.status_code == 200
    assert "Bookkeeper" in page.text and "<h1>Overview</h1>" in page.text


def test_an_api_token_or_a_wrong_one_cannot_sign_in(client):
    _, api_secret = create_token(client, "Shop", "api")
    refused = Console(client, api_secret).sign_in()
    assert refused.status_code == 403
    assert "This action requires an admin access token" in refused.text
    wrong = Console(client, "inv_nope").sign_in()
    assert wrong.status_code == 401
    assert "Invalid or missing access token" in wrong.text
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_sign_in_without_its_csrf_token_is_refused(client):
    _, secret = create_token(client, "Bookkeeper", "admin")
    client.get("/admin/sign-in")
    response = client.post(
        "/admin/sign-in", data={"token": secret, "csrf": "forged"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(console):
    response = console.client.post(
        "/admin/sign-out", data={"csrf": "forged"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert console.get("/admin").status_code == 200  # still signed in


def test_sign_out_ends_the_session_on_the_server(console):
    saved = console.client.cookies.get("invoicing_console")
    response = console.post("/admin/sign-out", {}, from_page="/admin")
    assert response.status_code == 303 and response.headers["location"] == "/admin/sign-in"
    assert console.get("/admin").status_code == 303
    console.sign_in()  # a session of its own again, so that the jar has the cookie's place
    replace_cookie(console.client, saved)
    assert console.get("/admin").status_code == 303  # a saved copy does not work either


def test_revoking_the_token_ends_its_sessions(console, client):
    assert console.get("/admin").status_code == 200

    async def revoke(database):
        async with database.write() as connection:
            await connection.execute(
                Query("UPDATE tokens SET revoked_at = created_at WHERE name = 'Bookkeeper'")
            )

    run(client, revoke)
    assert console.get("/admin").status_code == 303


def test_an_altered_cookie_is_refused(console):
    value = console.client.cookies.get("invoicing_console")
    replace_cookie(console.client, value[:-1] + ("0" if value[-1] != "0" else "1"))
    assert console.get("/admin").status_code == 303


def test_the_cookie_is_not_accepted_by_the_json_api(console):
    response = console.client.get("/invoices")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid or missing access token"


def test_sign_in_returns_to_the_page_asked_for_and_never_elsewhere(client):
    _, secret = create_token(client, "Bookkeeper", "admin")
    form = client.get("/admin/sign-in?next=/admin/invoices")
    assert 'name="next" value="/admin/invoices"' in form.text
    for target, landing in (
        ("/admin/invoices", "/admin/invoices"),
        ("//evil.example", "/admin"),
        ("https://evil.example/admin", "/admin"),
    ):
        client.cookies.clear()
        form = client.get("/admin/sign-in")
        response = client.post(
            "/admin/sign-in",
            data={"token": secret, "csrf": csrf_of(form.text), "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == landing


def test_pages_say_what_may_load_them(console):
    response = console.get("/admin")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'self'" in policy
    assert response.headers["cache-control"] == "no-store"
    css = console.client.get("/admin/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_a_session_expires_and_is_then_forgotten(console, client):
    assert console.get("/admin").status_code == 200
    expire_now = Query("UPDATE console_sessions SET expires_at = $1")
    count = Query("SELECT COUNT(*) FROM console_sessions")

    async def age(database):
        async with database.write() as connection:
            await connection.execute(expire_now, now() - timedelta(seconds=1))

    run(client, age)
    assert console.get("/admin").status_code == 303

    async def forgotten(database):
        await housekeeping.run_once(database, [sessions.expire])
        async with database.read() as connection:
            return await connection.fetchval(count)

    assert run(client, forgotten) == 0


def test_pages_load_nothing_from_elsewhere(console, api):
    """Everything a page loads (stylesheets, frames, images, scripts) comes from the service."""
    invoice = create_invoice(api, create_order(api)["id"])
    loads = re.compile(r'<(?:link|script|img|iframe)\b[^>]*\b(?:src|href)="([^"]*)"')
    pages = ["/admin", "/admin/invoices", f"/admin/invoices/{invoice['id']}", "/admin/orders"]
    pages += ["/admin/orders/new", "/admin/tokens", "/admin/webhooks", "/admin/seller"]
    for path in pages:
        sources = loads.findall(console.get(path).text)
        assert sources, path
        assert all(source.startswith("/admin/") for source in sources), (path, sources)
