"""GET /metrics labels a request by the route template it was meant for, also when it was answered
before routing (401 from the token check, 413 from the body limit): such answers are counted
`unmatched` only when no route has the path. Against a real server, through its /metrics."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from invoicing.db.migrate import upgrade
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

SOME_ID = "0123456789abcdef01234567"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    tmp_path: Path = tmp_path_factory.mktemp("metrics")
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    secret = make_token(url, name="metrics")
    with Server(url, tmp_path / "server") as server:
        yield server, secret


def _requests_total(server: Server) -> dict[tuple[str, str, str], float]:
    """invoicing_requests_total by (method, route, status)."""
    counts = {}
    for line in httpx.get(f"{server.url}/metrics").text.splitlines():
        if line.startswith("invoicing_requests_total{"):
            labels, _, value = line.removeprefix("invoicing_requests_total").rpartition(" ")
            pairs = dict(pair.split("=", 1) for pair in labels.strip("{}").split(","))
            key = (pairs["method"], pairs["route"], pairs["status"])
            counts[tuple(label.strip('"') for label in key)] = float(value)
    return counts  # type: ignore[return-value]


def _counted(server: Server, send: list[httpx.Request]) -> dict[tuple[str, str, str], float]:
    """What sending these requests added to invoicing_requests_total."""
    before = _requests_total(server)
    with httpx.Client() as client:
        for request in send:
            client.send(request)
    after = _requests_total(server)
    after.pop(("GET", "/metrics", "200"))  # the scrape before
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key)}


def test_a_401_is_counted_under_the_route_it_was_meant_for(served: tuple[Server, str]) -> None:
    server, _ = served
    added = _counted(
        server,
        [
            httpx.Request("GET", f"{server.url}/orders/{SOME_ID}"),
            httpx.Request("GET", f"{server.url}/invoices/{SOME_ID}/pdf"),
            httpx.Request("POST", f"{server.url}/invoices", json={}),
            httpx.Request("GET", f"{server.url}/no/such/route"),
        ],
    )
    assert added == {
        ("GET", "/orders/{order_id}", "401"): 1,
        ("GET", "/invoices/{invoice_id}/pdf", "401"): 1,
        ("POST", "/invoices", "401"): 1,
        ("GET", "unmatched", "401"): 1,
    }


def test_answers_before_routing_are_labelled_as_routing_would(served: tuple[Server, str]) -> None:
    """A method the route does not allow: routing labels its 405 with the route, so its 401 is
    labelled the same. A body over the limit: 413 before routing, under the route."""
    server, secret = served
    token = {"accessToken": secret}
    too_big = b"x" * (1024 * 1024 + 1)
    added = _counted(
        server,
        [
            httpx.Request("DELETE", f"{server.url}/orders"),
            httpx.Request("DELETE", f"{server.url}/orders", headers=token),
            httpx.Request("POST", f"{server.url}/orders", headers=token, content=too_big),
            httpx.Request("GET", f"{server.url}/no/such/route", headers=token),
            httpx.Request("GET", f"{server.url}/orders", headers=token),
        ],
    )
    assert added == {
        ("DELETE", "/orders", "401"): 1,
        ("DELETE", "/orders", "405"): 1,
        ("POST", "/orders", "413"): 1,
        ("GET", "unmatched", "404"): 1,
        ("GET", "/orders", "200"): 1,
    }
