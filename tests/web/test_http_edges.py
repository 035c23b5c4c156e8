"""Edges of the HTTP layer: CORS before authentication, no redirects built from Host, both token
headers, and list pages bounded by size."""

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.web import pagination
from tests.conftest import create_token
from tests.helpers import create_invoice, create_order, line

ORIGIN = "https://shop.example"


@pytest.fixture
def cors_client(database_url, outbox, client) -> Iterator[TestClient]:
    settings = Settings(database_url=database_url, outbox_dir=outbox, cors_origins=[ORIGIN])
    with TestClient(create_app(settings), raise_server_exceptions=False) as cors:
        yield cors


def test_a_cors_preflight_is_answered_without_a_token(cors_client):
    response = cors_client.options(
        "/invoices",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "accesstoken, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]


def test_a_cross_origin_request_still_needs_its_token(cors_client, client):
    _, secret = create_token(client)
    order = create_order(_Api(cors_client, secret))
    ok = cors_client.get(
        f"/orders/{order['id']}", headers={"Origin": ORIGIN, "accessToken": secret}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == ORIGIN
    refused = cors_client.get(f"/orders/{order['id']}", headers={"Origin": ORIGIN})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == ORIGIN  # the browser can read why
    other = cors_client.get(
        f"/orders/{order['id']}", headers={"Origin": "https://evil.example", "accessToken": secret}
    )
    assert "access-control-allow-origin" not in other.headers


class _Api:
    def __init__(self, client: TestClient, secret: str) -> None:
        self.client, self.secret = client, secret

    def post(self, path, **kwargs):
        return self.client.post(path, headers={"accessToken": self.secret}, **kwargs)


@pytest.mark.parametrize("path", ["/orders/", "/invoices/", "/tokens/"])
def test_a_trailing_slash_is_not_redirected(api, path):
    response = api.get(path, headers={"Host": "attacker.example"}, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert response.json() == {"success": False, "message": "Not found"}


def test_both_token_headers_must_agree(client, api):
    _, other = create_token(client, name="Other")
    both = {"accessToken": api.secret, "Authorization": f"Bearer {other}"}
    assert client.get("/orders", headers=both).status_code == 401
    same = {"accessToken": api.secret, "Authorization": f"Bearer {api.secret}"}
    assert client.get("/orders", headers=same).status_code == 200


def test_an_access_token_is_trimmed_like_a_bearer_token(client, api):
    assert client.get("/orders", headers={"accessToken": f"  {api.secret} "}).status_code == 200
    assert (
        client.get("/orders", headers={"Authorization": f"Bearer  {api.secret} "}).status_code
        == 200
    )


def test_a_page_ends_early_once_its_json_is_large(api, monkeypatch):
    order = create_order(api, lineItems=[line(f"Item {i}", 10, "1.5") for i in range(20)])
    line_ids = [item["id"] for item in order["lineItems"]]
    for _ in range(6):
        create_invoice(
            api, order["id"], lineItems=[{"lineItemId": i, "quantity": 1} for i in line_ids]
        )
    item = len(orjson.dumps(api.get("/invoices?limit=1").json()["data"][0]))
    monkeypatch.setattr(pagination, "MAX_PAGE_BYTES", item * 2 - 10)  # two invoices' worth
    seen, cursor, sizes = [], None, []
    while True:
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        response = api.get("/invoices", params=params)
        assert response.status_code == 200
        page = response.json()
        sizes.append(len(page["data"]))
        seen += [invoice["id"] for invoice in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert sizes == [2, 2, 2]
    assert len(seen) == len(set(seen)) == 6


def test_a_page_holds_at_least_one_item_however_large(api, monkeypatch):
    order = create_order(api)
    create_invoice(api, order["id"])
    monkeypatch.setattr(pagination, "MAX_PAGE_BYTES", 1)
    page = api.get("/invoices").json()
    assert len(page["data"]) == 1 and page["nextCursor"] is None
