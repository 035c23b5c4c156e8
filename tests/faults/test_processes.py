"""Several real server processes on one database: numbers
stay gapless and unique, an order is never over-invoiced, one idempotency key makes one invoice,
and nothing answers 5xx (SQLite's "database is locked" included)."""

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.faults.conftest import reset
from tests.helpers import line, order_body
from tests.servers import Clients, Server, concurrently

pytestmark = pytest.mark.slow


def _all_5xx(responses: list[httpx.Response]) -> list[str]:
    return [
        f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text}"
        for r in responses
        if r.status_code >= 500
    ]


@pytest.fixture
def two(
    two_servers: list[Server], module_secret: str, module_database_url: str
) -> Iterator[tuple[list[str], Clients]]:
    """The module's two servers on an emptied database, and clients for them."""
    reset(module_database_url)
    with Clients(module_secret) as clients:
        yield [server.url for server in two_servers], clients
    for server in two_servers:
        assert server.process is not None and server.process.poll() is None, "a server died"


def _create_order(clients: Clients, url: str, **overrides: Any) -> dict[str, Any]:
    response = clients.get(url).post("/orders", json=order_body(**overrides))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["data"]
    return order


def test_200_concurrent_creates_across_two_processes_are_numbered_1_to_200(two: Any) -> None:
    urls, clients = two
    orders = concurrently(
        [
            (lambda i=i: clients.get(urls[i % 2]).post("/orders", json=order_body()))
            for i in range(200)
        ]
    )
    assert not _all_5xx(orders)
    assert [r.status_code for r in orders] == [201] * 200
    order_ids = [r.json()["data"]["id"] for r in orders]

    responses = concurrently(
        [
            (
                lambda i=i, order_id=order_id: clients.get(urls[i % 2]).post(
                    "/invoices", json={"orderId": order_id}
                )
            )
            for i, order_id in enumerate(order_ids)
        ]
    )
    assert not _all_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 200}
    numbers = sorted(int(r.json()["data"]["entityId"]) for r in responses)
    assert numbers == list(range(1, 201))
    # Each invoice belongs to its own order, and each order is now fully invoiced.
    assert sorted(r.json()["data"]["order"] for r in responses) == sorted(order_ids)
    for url in urls:
        assert (
            clients.get(url).get(f"/orders/{order_ids[0]}").json()["data"]["status"] == "invoiced"
        )


def test_30_concurrent_full_invoices_of_one_order_make_exactly_one(two: Any) -> None:
    urls, clients = two
    order = _create_order(clients, urls[0])
    responses = concurrently(
        [
            (lambda i=i: clients.get(urls[i % 2]).post("/invoices", json={"orderId": order["id"]}))
            for i in range(30)
        ]
    )
    assert not _all_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 29}
    created = next(r.json()["data"] for r in responses if r.status_code == 201)
    for r in responses:
        if r.status_code == 409:
            assert r.json() == {
                "success": False,
                "message": "Order is already fully invoiced",
                "errors": [{"field": "orderId", "message": f"invoiced by {created['id']}"}],
            }
    assert created["entityId"] == "1"
    assert created["subtotal"] == order["subtotal"]
    listed = clients.get(urls[1]).get("/invoices", params={"orderId": order["id"]}).json()["data"]
    assert [invoice["id"] for invoice in listed] == [created["id"]]


def test_competing_partial_invoices_never_exceed_the_order(two: Any) -> None:
    urls, clients = two
    order = _create_order(
        clients,
        urls[0],
        lineItems=[
            line("Bolt", 10, "0.3333", 19),
            line("Nut", "7.5", "1.25", 7),
            line("Fee", 1, 100, 0),
        ],
    )
    lines = order["lineItems"]
    picks = [
        [
            {"lineItemId": lines[0]["id"], "quantity": 1},
            {"lineItemId": lines[1]["id"], "quantity": 0.5},
        ],
        [{"lineItemId": lines[0]["id"], "quantity": 1.5}],
        [
            {"lineItemId": lines[1]["id"], "quantity": 1},
            {"lineItemId": lines[2]["id"], "quantity": 1},
        ],
        [{"lineItemId": lines[0]["id"], "quantity": 0.25}],
    ]
    calls = [
        (
            lambda i=i: clients.get(urls[i % 2]).post(
                "/invoices", json={"orderId": order["id"], "lineItems": picks[i % len(picks)]}
            )
        )
        for i in range(40)
    ]
    responses = concurrently(calls)
    # Then the rest, whatever it is, from both at once: exactly one takes it.
    rest = concurrently(
        [
            (lambda i=i: clients.get(urls[i % 2]).post("/invoices", json={"orderId": order["id"]}))
            for i in range(6)
        ]
    )
    assert not _all_5xx(responses + rest)
    for r in responses:
        assert r.status_code in (201, 400, 409), r.text
        if r.status_code == 400:
            assert "exceeds" in r.json()["message"], r.text
    assert Counter(r.status_code for r in rest)[201] <= 1
    assert set(Counter(r.status_code for r in rest)) <= {201, 409}

    invoices = [r.json()["data"] for r in responses + rest if r.status_code == 201]
    billed_quantity: Counter[str] = Counter()
    billed_amount: Counter[str] = Counter()
    for invoice in invoices:
        for item in invoice["lineItems"]:
            billed_quantity[item["lineItemId"]] += Decimal(str(item["quantity"]))
            billed_amount[item["lineItemId"]] += Decimal(str(item["amount"]))
    after = clients.get(urls[1]).get(f"/orders/{order['id']}").json()["data"]
    assert after["status"] == "invoiced"
    for ordered in after["lineItems"]:
        assert billed_quantity[ordered["id"]] == Decimal(str(ordered["quantity"]))
        assert Decimal(str(ordered["invoicedQuantity"])) == Decimal(str(ordered["quantity"]))
        assert billed_amount[ordered["id"]] == Decimal(str(ordered["amount"]))
    assert sum(Decimal(str(i["subtotal"])) for i in invoices) == Decimal(str(order["subtotal"]))
    assert sorted(int(i["entityId"]) for i in invoices) == list(range(1, len(invoices) + 1))


def test_one_idempotency_key_from_20_concurrent_requests_makes_one_invoice(two: Any) -> None:
    urls, clients = two
    order = _create_order(clients, urls[0])
    body = {"orderId": order["id"], "metaFields": [{"key": "po", "value": "PO-77"}]}
    responses = concurrently(
        [
            (
                lambda i=i: clients.get(urls[i % 2]).post(
                    "/invoices", json=body, headers={"Idempotency-Key": "the-one-key"}
                )
            )
            for i in range(20)
        ],
        workers=20,
    )
    assert not _all_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 20}
    first = [r for r in responses if r.headers.get("idempotent-replayed") is None]
    replays = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    assert len(first) == 1 and len(replays) == 19
    for replay in replays:
        assert replay.content == first[0].content
    listed = clients.get(urls[1]).get("/invoices", params={"orderId": order["id"]}).json()["data"]
    assert [invoice["id"] for invoice in listed] == [first[0].json()["data"]["id"]]
    assert listed[0]["entityId"] == "1"
