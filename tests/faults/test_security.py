"""Security: auth on every route, revocation at once and across processes, the token
secret nowhere (database, logs, responses), injection-shaped input never a 500, the response
headers, CORS off by default, and body limits."""

import asyncio
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from invoicing.db.url import postgres_dsn, sqlite_path
from invoicing.web.middleware import LimitBody
from tests.helpers import create_invoice, create_order
from tests.servers import Clients, Server, cli, make_token, start_all, token_id

# Written out, not imported: a route made public by mistake must fail this file.
PUBLIC = {
    *("/", "/health", "/metrics", "/openapi.json", "/docs", "/redoc"),
    *(f"/docs/assets/{name}" for name in ("swagger-ui-bundle.js", "swagger-ui.css")),
    *(f"/docs/assets/{name}" for name in ("redoc.standalone.js", "favicon.png")),
}
UNAUTHORIZED = {"success": False, "message": "Invalid or missing access token"}
SOME_ID = "0123456789abcdef01234567"
INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE invoices; --",
    '" OR ""="',
    "1' UNION SELECT * FROM tokens --",
    "%27%20OR%201=1",
    "\x00",
    "0123456789abcdef0123\x004567",
    "$1",
    "?1",
    "\\x00",
    "0123456789abcdef0123456'",
    "ÿ" * 30,
    "a" * 5000,
]


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(method, path with every parameter filled) for every route of the app, included routers'
    routes too (FastAPI keeps those as included-router entries in `app.routes`)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes, prefix + route.include_context.prefix)
            continue
        if not isinstance(route, APIRoute | Route):
            continue
        path = prefix + re.sub(r"\{[^}]+\}", SOME_ID, route.path)
        for method in sorted(route.methods or ()):
            yield method, path


CONSOLE_PUBLIC = {"/admin/sign-in", "/admin/static/console.css"}


def test_every_route_but_the_public_ones_needs_a_token(client: Any) -> None:
    routes = list(_routes(client.app.routes))
    openapi = client.get("/openapi.json").json()
    documented = {
        (m.upper(), re.sub(r"\{[^}]+\}", SOME_ID, p))
        for p, item in openapi["paths"].items()
        for m in item
    }
    assert documented <= set(routes)
    assert len(routes) >= 14
    checked = 0
    for method, path in [*routes, ("GET", "/no/such/route"), ("DELETE", "/orders")]:
        for headers in (
            {},
            {"accessToken": "inv_not-a-real-token"},
            {"Authorization": "Bearer inv_nope"},
            {"accessToken": ""},
            {"Authorization": "Basic dXNlcjpwYXNz"},
        ):
            response = client.request(
                method, path, headers=headers, json={"orderId": SOME_ID}, follow_redirects=False
            )
            if path in PUBLIC or path in CONSOLE_PUBLIC:
                assert response.status_code != 401, (method, path)
                continue
            if path.startswith("/admin"):
                # The console takes no token, only its session: without one, sign in first.
                assert response.status_code == 303, (method, path, headers, response.text)
                assert response.headers["location"].startswith("/admin/sign-in")
                continue
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.json() == UNAUTHORIZED
            assert response.headers["x-content-type-options"] == "nosniff"
            checked += 1
    assert checked > 60


def test_injection_shaped_ids_filters_and_cursors_get_400_or_404(api: Any) -> None:
    order = create_order(api)
    create_invoice(api, order["id"])
    for bad in INJECTIONS:
        for path in ("/orders/{}", "/invoices/{}", "/invoices/{}/pdf", "/tokens/{}"):
            method = "DELETE" if path.startswith("/tokens") else "GET"
            response = api.request(method, path.format(quote(bad, safe="")))
            assert response.status_code == 404, (path, bad, response.text)
            assert response.json()["success"] is False
        response = api.patch(f"/invoices/{quote(bad, safe='')}", json={"metaFields": []})
        assert response.status_code == 404, (bad, response.text)
        for path, params in (
            ("/orders", {"status": bad}),
            ("/orders", {"cursor": bad}),
            ("/orders", {"limit": bad}),
            ("/invoices", {"cursor": bad}),
            ("/invoices", {"limit": bad}),
        ):
            response = api.get(path, params=params)
            assert response.status_code == 400, (path, params, response.text)
            assert response.json()["success"] is False
        # A filter by an order id that does not exist finds nothing (or is refused), never all.
        response = api.get("/invoices", params={"orderId": bad})
        assert response.status_code in (200, 400), response.text
        if response.status_code == 200:
            assert response.json()["data"] == []
        for body in (
            {"orderId": bad},
            {"orderId": order["id"], "lineItems": [{"lineItemId": bad, "quantity": 1}]},
        ):
            response = api.post("/invoices", json=body)
            assert response.status_code in (400, 404, 409), response.text
    # Nothing was dropped, nothing leaked.
    listed = api.get("/invoices").json()["data"]
    assert [invoice["entityId"] for invoice in listed] == ["1"]
    assert len(api.get("/tokens").json()["data"]) == 1


def test_headers_cors_and_body_limits(api: Any) -> None:
    response = api.get("/orders")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers
    # CORS is off unless configured: no preflight answer, no allow-origin on responses.
    preflight = api.request(
        "OPTIONS",
        "/orders",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    response = api.get("/orders", headers={"Origin": "https://evil.example"})
    assert not any(h.startswith("access-control-") for h in response.headers)
    # Over 1 MiB: 413, announced by Content-Length or not.
    big = b'{"orderId": "' + b"x" * (1024 * 1024) + b'"}'
    for kwargs in ({"content": big}, {"content": iter([big[:500_000], big[500_000:]])}):
        response = api.post("/invoices", headers={"Content-Type": "application/json"}, **kwargs)
        assert response.status_code == 413, response.text
        assert response.json() == {"success": False, "message": "Request body too large"}
        assert response.headers["x-content-type-options"] == "nosniff"


def _dump(database_url: str) -> str:
    """Every row of every table, as text; for SQLite also the raw bytes of its files."""
    if database_url.startswith("sqlite"):
        path = sqlite_path(database_url)
        with sqlite3.connect(path) as db:
            text = "\n".join(db.iterdump())
        db.close()
        raw = b"".join(p.read_bytes() for p in Path(path).parent.glob(Path(path).name + "*"))
        return text + raw.decode("latin-1")

    async def dump() -> str:
        connection = await asyncpg.connect(postgres_dsn(database_url))
        try:
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            parts = []
            for table in tables:
                rows = await connection.fetch(
                    f'SELECT t::text AS row FROM "{table["tablename"]}" t'
                )
                parts.extend(row["row"] for row in rows)
            return "\n".join(parts)
        finally:
            await connection.close()

    return asyncio.run(dump())


@pytest.mark.slow
def test_secrets_stay_secret_and_revocation_is_immediate_across_processes(
    fresh_database_url: str, tmp_path: Path
) -> None:
    admin = make_token(fresh_database_url, name="root")
    a = Server(fresh_database_url, tmp_path / "a")
    b = Server(fresh_database_url, tmp_path / "b")
    start_all([a, b])
    try:
        with Clients(admin) as clients:
            on_a, on_b = clients.get(a.url), clients.get(b.url)
            # The real server sends no Server header (no framework version) and nosniff.
            response = on_a.get("/health")
            assert "server" not in response.headers
            assert response.headers["x-content-type-options"] == "nosniff"
            for url in (a.url, b.url):
                for path in ("/health", "/metrics"):
                    assert httpx.get(url + path).status_code == 200

            created = on_a.post("/tokens", json={"name": "temp", "type": "api"})
            assert created.status_code == 201, created.text
            temp = created.json()["data"]
            secret = temp["token"]
            assert len(secret) >= 22 and temp["id"] == token_id(fresh_database_url, "temp")
            with httpx.Client(headers={"Authorization": f"Bearer {secret}"}) as holder:
                order = holder.post(
                    f"{b.url}/orders",
                    json={
                        "customer": {"name": "A"},
                        "lineItems": [{"name": "x", "quantity": 1, "unitPrice": 1}],
                    },
                )
                assert order.status_code == 201, order.text
                assert holder.get(f"{a.url}/orders").status_code == 200
                # An api token may not manage tokens.
                assert holder.get(f"{a.url}/tokens").status_code == 403

                # Revoked on A: refused at once by A and by B.
                revoked = on_a.delete(f"/tokens/{temp['id']}")
                assert revoked.status_code == 200, revoked.text
                assert revoked.json()["data"]["revokedAt"]
                for url in (b.url, a.url):
                    response = holder.get(f"{url}/orders")
                    assert response.status_code == 401 and response.json() == UNAUTHORIZED

            # Revoked from the command line while both serve: refused at once as well.
            cli_secret = make_token(fresh_database_url, name="cli-temp", type="api")
            assert (
                httpx.get(f"{b.url}/orders", headers={"accessToken": cli_secret}).status_code == 200
            )
            cli(fresh_database_url, "tokens", "revoke", token_id(fresh_database_url, "cli-temp"))
            for url in (a.url, b.url):
                response = httpx.get(f"{url}/orders", headers={"accessToken": cli_secret})
                assert response.status_code == 401

            # No response after creation shows a secret.
            listing = on_b.get("/tokens", params={"include_revoked": "true"})
            assert listing.status_code == 200
            for leaked in (admin, secret, cli_secret):
                assert leaked not in listing.text
                assert leaked not in order.text
    finally:
        a.stop()
        b.stop()

    # The secrets are nowhere in the database (only their hashes) nor in any log line.
    dump = _dump(fresh_database_url)
    assert "temp" in dump  # the dump does see the tokens table
    logs = a.logs() + b.logs()
    assert '"path":"/orders"' in logs  # the logs were captured
    for leaked in (admin, secret, cli_secret):
        assert leaked not in dump
        assert leaked[4:] not in dump
        assert leaked not in logs


def test_a_stalled_request_body_is_cut_off(api: Any) -> None:
    """A body that stops arriving gets 408 once the body timeout passes (30 s in the app; 0.3 s
    here, by wrapping the app in one more LimitBody with a short timeout)."""
    app = LimitBody(api.client.app, timeout=0.3)
    sent: list[dict[str, Any]] = []

    async def call() -> float:
        chunks = [{"type": "http.request", "body": b'{"orderId": "', "more_body": True}]

        async def receive() -> dict[str, Any]:
            if chunks:
                return chunks.pop()
            await asyncio.sleep(60)  # the rest never comes
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/invoices",
            "raw_path": b"/invoices",
            "root_path": "",
            "query_string": b"",
            "client": ("127.0.0.1", 1),
            "server": ("testserver", 80),
            "headers": [
                (b"content-type", b"application/json"),
                (b"accesstoken", api.secret.encode()),
            ],
        }
        started = time.monotonic()
        await app(scope, receive, send)
        return time.monotonic() - started

    took = api.client.portal.call(call)
    assert took < 5
    assert sent[0]["status"] == 408
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert json.loads(body) == {
        "success": False,
        "message": "Request body was not received in time",
    }
