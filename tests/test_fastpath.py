"""The busiest routes are dispatched directly, answer exactly as through FastAPI's router, and the
table refuses any route it could not serve that way."""

import re
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, Query
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import Response

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.web.fastpath import UnfitRoute, build_table, hot
from tests.conftest import create_token
from tests.helpers import create_order, order_body

HOT = {
    ("POST", "/orders"),
    ("GET", "/orders/{order_id}"),
    ("POST", "/invoices"),
    ("GET", "/invoices/{invoice_id}"),
    # Stored documents' bytes (invoicing.documents.store).
    ("GET", "/invoices/{invoice_id}/pdf"),
    ("GET", "/credit-notes/{credit_note_id}/pdf"),
}


def _table_of(client: TestClient) -> set[tuple[str, str]]:
    fast = client.app.user_middleware[-1]  # type: ignore[attr-defined]
    return {(method, route.path) for method, _, route in fast.kwargs["table"]}


def test_the_hot_routes_are_in_the_table(client):
    assert _table_of(client) == HOT


def test_hot_routes_bypass_fastapis_router(api, monkeypatch):
    order = create_order(api)

    async def router_must_not_be_reached(*args, **kwargs):
        raise AssertionError("FastAPI's router was reached")

    monkeypatch.setattr(type(api.client.app.router), "__call__", router_must_not_be_reached)
    assert api.get(f"/orders/{order['id']}").status_code == 200
    assert api.get("/orders/693738682fa9114d9af87d29").status_code == 404
    assert api.get("/orders").status_code == 500  # not hot: the patch is in force


def _router(*routes: tuple[str, Any]) -> list[Any]:
    router = APIRouter()
    for path, endpoint in routes:
        router.get(path)(endpoint)
    return router.routes


@hot
async def by_id(request: Request, item_id: str) -> Response:
    return Response()


async def summary(request: Request) -> Response:
    return Response()


async def _dependency() -> int:
    return 1


@pytest.mark.parametrize(
    ("routes", "problem"),
    [
        ([("/items/summary", summary), ("/items/{item_id}", by_id)], "earlier route"),
        ([("/items/{other}", summary), ("/items/{item_id}", by_id)], "earlier route"),
        ([("/items/{item_id:path}", hot(lambda request, item_id: None))], "converter"),
        (
            [("/items", hot(lambda request, limit: None))],
            "parameters beyond its path",
        ),
    ],
)
def test_unfit_routes_are_refused_every_time(routes, problem):
    for _ in range(2):  # not only the first time
        with pytest.raises(UnfitRoute, match=problem):
            build_table(_router(*routes))


def test_a_route_with_a_dependency_is_refused():
    @hot
    async def with_dependency(
        request: Request, item_id: str, value: Annotated[int, Depends(_dependency)]
    ) -> Response:
        return Response()

    with pytest.raises(UnfitRoute, match="dependencies"):
        build_table(_router(("/items/{item_id}", with_dependency)))


def test_a_query_parameter_is_refused():
    @hot
    async def with_query(
        request: Request, item_id: str, q: Annotated[int, Query()] = 1
    ) -> Response:
        return Response()

    with pytest.raises(UnfitRoute, match="parameters beyond its path"):
        build_table(_router(("/items/{item_id}", with_query)))


def test_a_later_overlapping_route_is_fine():
    table = build_table(_router(("/items/{item_id}", by_id), ("/items/summary", summary)))
    assert [route.path for _, _, route in table] == ["/items/{item_id}"]


# Parity: the same requests through the fast path and through FastAPI's router.

_VOLATILE = re.compile(r'"(id|_id|createdAt|updatedAt|entityId|number|order|lineItemId)":"[^"]*"')
_DROP_HEADERS = {"x-request-id", "date"}


@pytest.fixture
def both(database_url, outbox, client) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps over the same database: the fast path on, and off."""
    clients = []
    for fast in (True, False):
        settings = Settings(database_url=database_url, outbox_dir=outbox, fast_path=fast)
        clients.append(TestClient(create_app(settings), raise_server_exceptions=False))
    with clients[0] as fast_client, clients[1] as slow_client:
        assert _table_of(slow_client) == set()
        yield fast_client, slow_client


def _shape(response: Any) -> tuple[int, dict[str, str], str]:
    headers = {k: v for k, v in response.headers.items() if k not in _DROP_HEADERS}
    headers.pop("content-length", None)  # differs with the normalized ids' lengths only
    return response.status_code, headers, _VOLATILE.sub(r'"\1":"…"', response.text)


def test_responses_are_the_same_with_the_fast_path_on_and_off(both, client):
    fast, slow = both
    _, secret = create_token(client)
    auth = {"accessToken": secret}
    order = fast.post("/orders", json=order_body(), headers=auth).json()["data"]
    line_id = order["lineItems"][0]["id"]
    gone = "693738682fa9114d9af87d29"
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/orders/{order['id']}", {}),
        ("GET", f"/orders/{gone}", {}),
        ("GET", "/orders/not-an-id", {}),
        ("GET", f"/orders/{order['id']}/", {}),
        ("DELETE", f"/orders/{order['id']}", {}),
        ("GET", f"/invoices/{gone}", {}),
        ("POST", "/orders", {"json": order_body(currency="XXX1")}),
        ("POST", "/orders", {"json": {}}),
        ("POST", "/orders", {"content": b"{", "headers": {"content-type": "application/json"}}),
        ("POST", "/orders", {"content": b"{}", "headers": {"content-type": "text/plain"}}),
        ("POST", "/orders", {"json": order_body()}),
        ("POST", "/invoices", {"json": {"orderId": gone}}),
        ("POST", "/invoices", {"json": {"orderId": order["id"], "lineItems": []}}),
        (
            "POST",
            "/invoices",
            {
                "json": {
                    "orderId": order["id"],
                    "lineItems": [{"lineItemId": line_id, "quantity": 99}],
                }
            },
        ),
        (
            "POST",
            "/invoices",
            {
                "json": {
                    "orderId": order["id"],
                    "lineItems": [{"lineItemId": line_id, "quantity": 1}],
                }
            },
        ),
    ]
    for method, path, kwargs in requests:
        headers = {**auth, **kwargs.pop("headers", {})}
        answers = [c.request(method, path, headers=headers, **kwargs) for c in (fast, slow)]
        assert _shape(answers[0]) == _shape(answers[1]), (method, path)
        for c in (fast, slow):  # and without a token
            assert c.request(method, path, **kwargs).status_code == 401
    invoices = fast.get(f"/invoices?orderId={order['id']}", headers=auth).json()["data"]
    assert len(invoices) == 2  # one created through each path
    for invoice in invoices:
        answers = [c.get(f"/invoices/{invoice['id']}", headers=auth) for c in (fast, slow)]
        assert _shape(answers[0]) == _shape(answers[1])
