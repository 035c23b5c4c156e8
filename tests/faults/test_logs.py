"""Structured logs: each request gives exactly one JSON line on the server's stderr with
its request id (also the X-Request-ID response header), method, path, status and duration, and
never the token or the request body."""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from invoicing.db.migrate import upgrade
from tests.helpers import order_body
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

MARKER = "body-marker-6f1c0e"


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    """A server on a SQLite database (logging does not depend on the backend) and a token."""
    tmp_path = tmp_path_factory.mktemp("logs")
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    secret = make_token(url, name="logs")
    with Server(url, tmp_path / "server") as server:
        yield server, secret


def test_one_json_line_per_request_without_secrets(logged: tuple[Server, str]) -> None:
    server, secret = logged
    responses: list[httpx.Response] = []
    with httpx.Client(base_url=server.url, headers={"accessToken": secret}) as client:
        body = order_body(customer={"name": MARKER, "address": MARKER})
        responses.append(client.post("/orders", json=body))
        order_id = responses[-1].json()["data"]["id"]
        responses.append(client.post("/invoices", json={"orderId": order_id}))
        responses.append(client.get(f"/orders/{order_id}", headers={"X-Request-ID": "trace-42"}))
        responses.append(client.get("/invoices", params={"orderId": order_id}))
        responses.append(client.get("/no/such/route"))
        responses.append(client.get("/orders", headers={"accessToken": "inv_wrong-secret"}))
        responses.append(client.get("/orders", headers={"Authorization": f"Bearer {secret}"}))
        responses.append(client.get("/health"))
        responses.append(client.get("/orders/" + "x" * 30))
        responses.append(
            client.post("/orders", content=b"{", headers={"Content-Type": "application/json"})
        )
        # A request id that is not safe to log is replaced by a fresh one.
        responses.append(client.get("/health", headers={"X-Request-ID": 'evil" {"forged":1}'}))
    deadline = time.monotonic() + 5
    while len(_ours(server, responses)) < len(responses):
        assert time.monotonic() < deadline, server.stderr_path.read_text()
        time.sleep(0.05)
    stderr = server.stderr_path.read_text()

    lines = [json.loads(text) for text in stderr.splitlines() if text.strip()]  # all JSON
    access = [line for line in lines if line.get("logger") == "invoicing.access"]
    ours = {response.headers["x-request-id"] for response in responses}
    assert len(ours) == len(responses), "request ids repeat"
    # Exactly one line per request.
    assert sorted(line["request_id"] for line in _ours(server, responses)) == sorted(ours)
    by_id = {line["request_id"]: line for line in access}
    for response in responses:
        request_id = response.headers["x-request-id"]
        line = by_id[request_id]
        assert line["method"] == response.request.method
        assert line["path"] == response.request.url.path
        assert line["status"] == response.status_code
        assert isinstance(line["duration_ms"], int | float) and 0 <= line["duration_ms"] < 10_000
    assert responses[2].headers["x-request-id"] == "trace-42"
    assert responses[-1].headers["x-request-id"] != 'evil" {"forged":1}'
    assert [r.status_code for r in responses] == [
        201,
        201,
        200,
        200,
        404,
        401,
        200,
        200,
        404,
        400,
        200,
    ]
    assert secret not in stderr and secret[4:] not in stderr
    assert "inv_wrong-secret" not in stderr
    assert MARKER not in stderr
    assert "forged" not in stderr


def _ours(server: Server, responses: list[httpx.Response]) -> list[dict[str, Any]]:
    """The access log lines of these responses."""
    ours = {response.headers["x-request-id"] for response in responses}
    lines = [json.loads(text) for text in server.stderr_path.read_text().splitlines() if text]
    return [
        line
        for line in lines
        if line.get("logger") == "invoicing.access" and line.get("request_id") in ours
    ]


def _metrics(server: Server) -> dict[str, float]:
    samples: dict[str, float] = {}
    for text in httpx.get(f"{server.url}/metrics").text.splitlines():
        if text.startswith("invoicing_"):
            name, _, value = text.rpartition(" ")
            samples[name] = float(value)
    return samples


def _order(server: Server, secret: str) -> str:
    response = httpx.post(
        f"{server.url}/orders", json=order_body(), headers={"accessToken": secret}
    )
    assert response.status_code == 201
    order_id: str = response.json()["data"]["id"]
    return order_id


def test_metrics_count_requests_and_latency_per_route(logged: tuple[Server, str]) -> None:
    server, secret = logged
    before = _metrics(server)
    order_id = _order(server, secret)
    for _ in range(3):
        httpx.get(f"{server.url}/orders/{order_id}", headers={"accessToken": secret})
    after = _metrics(server)
    key = 'invoicing_requests_total{method="GET",route="/orders/{order_id}",status="200"}'
    assert after[key] - before.get(key, 0) == 3  # per route template, not per id
    count = 'invoicing_request_duration_seconds_count{method="GET",route="/orders/{order_id}"}'
    assert after[count] - before.get(count, 0) == 3
    assert not any(order_id in name for name in after)


def test_metrics_count_invoices_created(logged: tuple[Server, str]) -> None:
    server, secret = logged
    before = _metrics(server).get("invoicing_invoices_created_total", 0)
    order_id = _order(server, secret)
    headers = {"accessToken": secret, "Idempotency-Key": order_id}
    for _ in range(2):  # the replay creates nothing, so it counts nothing
        response = httpx.post(f"{server.url}/invoices", json={"orderId": order_id}, headers=headers)
        assert response.status_code == 201
    assert _metrics(server)["invoicing_invoices_created_total"] - before == 1
