"""Webhooks from real server processes (SQLite and PostgreSQL), received by a real HTTP receiver
and verified with the `standardwebhooks` library: two processes sharing one outbox deliver every
committed invoice.created once and nothing for a refused request, and an event committed just
before a `kill -9` is delivered, signed, by the restarted process."""

import itertools
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import line, order_body
from tests.receivers import Received, Receiver, receiving
from tests.servers import Clients, Server, concurrently, list_all, make_token, start_all

pytestmark = pytest.mark.slow

DELIVERED_WITHIN = 60.0  # seconds for every event to reach the receiver
PRIVATE = {"INVOICING_WEBHOOK_ALLOW_PRIVATE": "true"}  # the receiver is on 127.0.0.1
FULLY_INVOICED = "Order is already fully invoiced"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()


def _backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgres") else "sqlite"


def _data(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    data: dict[str, Any] = response.json()["data"]
    return data


def _add_endpoint(client: httpx.Client, url: str, events: list[str]) -> dict[str, Any]:
    """A webhook endpoint made through the API; its `secret` is in this answer only."""
    endpoint = _data(client.post("/webhooks", json={"url": url, "events": events}))
    assert endpoint["secret"].startswith("whsec_")
    return endpoint


def _settled_deliveries(
    client: httpx.Client, endpoint_id: str, count: int, timeout: float = DELIVERED_WITHIN
) -> list[dict[str, Any]]:
    """The endpoint's deliveries once `count` of them are recorded and none is pending (nothing
    is due any more, so no process can send anything after this)."""
    deadline = time.monotonic() + timeout
    while True:
        deliveries = list_all(client, f"/webhooks/{endpoint_id}/deliveries")
        statuses = Counter(d["status"] for d in deliveries)
        if len(deliveries) >= count and statuses["pending"] == 0:
            return deliveries
        assert time.monotonic() < deadline, (
            f"{count} deliveries expected, none pending; got {dict(statuses)}"
        )
        time.sleep(0.2)


def _verified(received: list[Received], secret: str) -> list[dict[str, Any]]:
    """Every request's event, each checked against its Standard Webhooks signature (which
    raises if it does not verify) and against its own `webhook-id` header."""
    events = []
    for request in received:
        assert request.path == "/hooks"
        event: dict[str, Any] = request.verify(secret)
        assert event == request.event
        assert request.headers["webhook-id"] == event["id"]
        events.append(event)
    return events


def _delivered_by(server: Server) -> int:
    """How many attempts this process delivered (its Prometheus counter)."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    for row in text.splitlines():
        if row.startswith('invoicing_webhook_attempts_total{outcome="delivered"}'):
            return int(float(row.split()[-1]))
    return 0


def _no_5xx(responses: list[httpx.Response], servers: list[Server]) -> None:
    failed = [
        f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text}"
        for r in responses
        if r.status_code >= 500
    ]
    if failed:
        logs = "\n".join(server.logs()[-4000:] for server in servers)
        raise AssertionError(f"{len(failed)} x 5xx, first: {failed[:3]}\nlogs:\n{logs}")


INVOICES = 500
ORDERS = 100  # each of 5 widgets, invoiced one widget at a time: 5 invoices per order
SPENT_ORDERS = 20  # fully invoiced before the endpoint exists
REFUSED = 60  # POST /invoices for a spent order: 409, no invoice, no event


def test_two_processes_deliver_each_committed_invoice_once_and_nothing_for_refusals(
    fresh_database_url: str,
    tmp_path: Path,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = _backend(fresh_database_url)
    started = time.monotonic()
    secret = make_token(fresh_database_url, name="webhooks")
    env = {**PRIVATE, "INVOICING_WEBHOOK_POLL_INTERVAL": "0.2"}
    servers = [Server(fresh_database_url, tmp_path / name, **env) for name in ("a", "b")]
    with Clients(secret) as clients:
        try:
            start_all(servers)
            urls = [server.url for server in servers]

            def client(i: int) -> httpx.Client:
                return clients.get(urls[i % 2])

            # Orders invoiced in full while no endpoint listens: they make no event, and every
            # later POST /invoices for them is refused.
            spent = []
            for i in range(SPENT_ORDERS):
                order = _data(client(i).post("/orders", json=order_body()))
                _data(client(i + 1).post("/invoices", json={"orderId": order["id"]}))
                spent.append(order["id"])

            endpoint = _add_endpoint(client(0), receiver.url(), ["invoice.created"])
            orders = concurrently(
                [
                    (
                        lambda i=i: client(i).post(
                            "/orders",
                            json=order_body(lineItems=[line("Widget", 5, f"{i + 1}.37", 19)]),
                        )
                    )
                    for i in range(ORDERS)
                ]
            )
            _no_5xx(orders, servers)
            line_of = {(o := _data(r))["id"]: o["lineItems"][0]["id"] for r in orders}

            calls: list[tuple[str, str, dict[str, Any]]] = [
                (
                    "ok",
                    order_id,
                    {"orderId": order_id, "lineItems": [{"lineItemId": lid, "quantity": 1}]},
                )
                for order_id, lid in line_of.items()
                for _ in range(INVOICES // ORDERS)
            ]
            calls += [
                ("refused", spent[i % SPENT_ORDERS], {"orderId": spent[i % SPENT_ORDERS]})
                for i in range(REFUSED)
            ]
            random.Random(11).shuffle(calls)

            create_started = time.monotonic()
            responses = concurrently(
                [
                    (lambda i=i, body=body: client(i).post("/invoices", json=body))
                    for i, (_, _, body) in enumerate(calls)
                ]
            )
            create_seconds = time.monotonic() - create_started
            _no_5xx(responses, servers)
            for (kind, order_id, _), response in zip(calls, responses, strict=True):
                if kind == "ok":
                    assert response.status_code == 201, response.text
                    assert response.json()["data"]["order"] == order_id
                else:
                    assert response.status_code == 409, response.text
                    assert response.json()["message"] == FULLY_INVOICED
            acknowledged = {
                (invoice := r.json()["data"])["id"]: invoice
                for r in responses
                if r.status_code == 201
            }
            assert len(acknowledged) == INVOICES

            deliveries = _settled_deliveries(client(1), endpoint["id"], INVOICES)
            time.sleep(0.5)  # the receiver records a request after answering it
            received = list(receiver.received)

            # Straight from the outbox: one delivery per committed invoice, delivered. No process
            # sent an attempt another one had claimed: each event reached the receiver at most
            # as often as its attempts were counted, and a second time only as a retry (the
            # schedule's 5 s later), never two at once.
            assert len(deliveries) == INVOICES
            assert {d["eventType"] for d in deliveries} == {"invoice.created"}
            assert {(d["status"], d["lastStatusCode"]) for d in deliveries} == {("delivered", 200)}
            arrivals: dict[str, list[float]] = {}
            for got in received:
                arrivals.setdefault(got.headers["webhook-id"], []).append(got.at)
            for delivery in deliveries:
                times = sorted(arrivals.get(delivery["eventId"], []))
                assert 1 <= len(times) <= delivery["attempts"], delivery
                assert all(b - a >= 4.0 for a, b in itertools.pairwise(times)), delivery
            retried = sum(d["attempts"] > 1 for d in deliveries)
            assert retried <= INVOICES // 100, f"{retried} deliveries needed a retry"

            events = _verified(received, endpoint["secret"])
            by_id = {event["id"]: event for event in events}
            # Deduped on webhook-id: exactly one invoice.created per acknowledged invoice, and
            # nothing for the refused requests, nor for the orders (the filter).
            assert len(by_id) == INVOICES
            assert {e["type"] for e in by_id.values()} == {"invoice.created"}
            assert {e["id"] for e in by_id.values()} == {d["eventId"] for d in deliveries}
            invoice_ids = [e["data"]["id"] for e in by_id.values()]
            assert Counter(invoice_ids).most_common(1)[0][1] == 1, "two events for one invoice"
            assert set(invoice_ids) == set(acknowledged)
            # A second arrival only ever came from a retry of a failed attempt (counted above).
            duplicates = len(received) - len(by_id)
            assert duplicates <= sum(d["attempts"] - 1 for d in deliveries), duplicates

            # Each event carries the invoice as its GET returns it (and as its POST answered).
            for i, event in enumerate(by_id.values()):
                invoice_id = event["data"]["id"]
                now = _data(client(i).get(f"/invoices/{invoice_id}"), 200)
                assert (event["data"]["number"], event["data"]["total"]) == (
                    now["number"],
                    now["total"],
                )
                assert event["data"] == now
                assert event["data"] == acknowledged[invoice_id]
            assert sorted(int(i["entityId"]) for i in acknowledged.values()) == list(
                range(SPENT_ORDERS + 1, SPENT_ORDERS + INVOICES + 1)
            )

            # The refused requests left the spent orders as they were.
            for order_id in spent[:3]:
                listed = _data(client(0).get("/invoices", params={"orderId": order_id}), 200)
                assert len(listed) == 1
            for server in servers:
                assert server.process is not None and server.process.poll() is None, "died"
            share = [_delivered_by(server) for server in servers]
            assert sum(share) == INVOICES
        finally:
            for server in servers:
                server.stop()
    with capsys.disabled():
        print(
            f"\n[{backend}] {INVOICES} invoices + {REFUSED} refusals over 2 processes in "
            f"{create_seconds:.1f} s; {len(received)} deliveries received, sent by the "
            f"processes {share}; {time.monotonic() - started:.1f} s in all"
        )


KILL_WORKERS = 4


def test_an_event_committed_just_before_kill_9_is_delivered_after_the_restart(
    fresh_database_url: str,
    tmp_path: Path,
    receiver: Receiver,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Invoices are created from a few threads; right after one of them is acknowledged the
    process is SIGKILLed (the others' requests may be cut mid-flight, committed or not). After a
    restart on the same database, each invoice that exists has its invoice.created delivered,
    signed, and there is no event for one that does not.

    The first process must not claim a delivery before it dies: a claim leases it for
    webhook_timeout + 60 s (LEASE_MARGIN), and only once the lease runs out would the restarted
    process try it again, a minute-long test. A smaller INVOICING_WEBHOOK_TIMEOUT would not help
    (the margin is fixed), so the first process polls once an hour instead: its delivery process
    looks for due deliveries when it starts (the test waits for that; none then) and is woken
    early only by PATCH /webhooks, /test and /retry, none of which this test calls. What it
    committed is then only in the database, and the restarted process, polling every 0.2 s, has
    to find it there."""
    backend = _backend(fresh_database_url)
    secret = make_token(fresh_database_url, name="webhooks")
    server = Server(
        fresh_database_url,
        tmp_path / "server",
        **PRIVATE,
        INVOICING_WEBHOOK_POLL_INTERVAL="3600",
    )
    acknowledged: dict[str, dict[str, Any]] = {}
    cut = refused = 0
    failures: list[str] = []
    lock = threading.Lock()
    with Clients(secret, timeout=10) as clients:
        try:
            server.start()
            _delivery_process_polled(server)
            client = clients.get(server.url)
            endpoint = _add_endpoint(client, receiver.url(), ["invoice.created"])
            # order.created is not listened for: no event, whatever happens to them. Each worker
            # invoices its own order one widget at a time, until the process dies under it.
            big = [line("Widget", 10_000, "2.49", 19)]
            lines = [
                _data(client.post("/orders", json=order_body(lineItems=big)))
                for _ in range(KILL_WORKERS)
            ]
            last = _data(client.post("/orders", json=order_body()))["id"]
            killed = threading.Event()

            def work(order: dict[str, Any]) -> None:
                nonlocal cut, refused
                url = server.url
                body = {
                    "orderId": order["id"],
                    "lineItems": [{"lineItemId": order["lineItems"][0]["id"], "quantity": 1}],
                }
                while not killed.is_set():
                    try:
                        response = clients.get(url).post("/invoices", json=body)
                    except httpx.ConnectError:
                        with lock:
                            refused += 1
                        return
                    except httpx.TransportError:
                        with lock:
                            cut += 1  # in flight when the process died: committed or not
                        return
                    if response.status_code != 201:
                        failures.append(f"{response.status_code} {response.text}")
                        return
                    invoice = response.json()["data"]
                    with lock:
                        acknowledged[invoice["id"]] = invoice

            threads = [threading.Thread(target=work, args=(order,)) for order in lines]
            for thread in threads:
                thread.start()
            time.sleep(0.3)  # the workers under way
            final = _data(client.post("/invoices", json={"orderId": last}))
            server.kill()  # at once after the 201: the commit happened, the event is unsent
            killed.set()
            for thread in threads:
                thread.join(30)
            assert not failures, failures
            acknowledged[final["id"]] = final
            assert receiver.received == [], "the first process sent something: no proof left"

            server.env["INVOICING_WEBHOOK_POLL_INTERVAL"] = "0.2"
            restarted_at = time.monotonic()
            server.start()  # the same database, a new process (and port)
            client = clients.get(server.url)
            invoices = {i["id"]: i for i in list_all(client, "/invoices")}
            # Every acknowledged invoice committed; a cut request's may have too.
            assert set(acknowledged) <= set(invoices)
            for invoice_id, invoice in acknowledged.items():
                assert invoices[invoice_id] == invoice
            assert len(invoices) <= len(acknowledged) + cut

            deliveries = _settled_deliveries(client, endpoint["id"], len(invoices))
            delivered_after = time.monotonic() - restarted_at
            time.sleep(0.5)  # the receiver records a request after answering it
            received = list(receiver.received)
            # One delivery per existing invoice, sent by the new process at its first attempt:
            # the killed one had claimed none.
            assert Counter(
                (d["status"], d["attempts"], d["lastStatusCode"]) for d in deliveries
            ) == {("delivered", 1, 200): len(invoices)}
            events = _verified(received, endpoint["secret"])
            assert len(events) == len(invoices), "an event sent twice"
            assert {e["id"] for e in events} == {d["eventId"] for d in deliveries}
            assert {e["type"] for e in events} == {"invoice.created"}
            assert sorted(e["data"]["id"] for e in events) == sorted(invoices)
            for event in events:
                assert event["data"] == invoices[event["data"]["id"]]
            [final_event] = [e for e in events if e["data"]["id"] == final["id"]]
            assert (final_event["data"]["number"], final_event["data"]["total"]) == (
                final["number"],
                final["total"],
            )
            assert delivered_after < 30  # well before any lease could have run out
        finally:
            server.stop()
    with capsys.disabled():
        print(
            f"\n[{backend}] killed after {len(acknowledged)} acknowledged invoices "
            f"({cut} requests cut mid-flight, {refused} refused); {len(invoices)} committed, "
            f"all delivered {delivered_after:.1f} s after the restart began"
        )


def _children(pid: int) -> list[int]:
    """The processes `pid` started (from /proc: their parent is `pid`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            if parent == pid and b"invoicing.webhooks.worker" in command:
                found.append(int(entry.name))
    return found


def _reported(client: httpx.Client, count: float) -> None:
    """Until the server's /metrics counts `count` delivered attempts (its delivery process
    reports each round once it is recorded)."""

    def delivered() -> list[float]:
        return [
            float(row.split()[-1])
            for row in client.get("/metrics").text.splitlines()
            if row.startswith('invoicing_webhook_attempts_total{outcome="delivered"}')
        ]

    deadline = time.monotonic() + 10
    while delivered() != [count]:
        assert time.monotonic() < deadline, delivered()
        time.sleep(0.1)


def _delivery_process_polled(server: Server) -> None:
    """Until the server's delivery process has started and made its first look for work."""
    assert server.process is not None
    deadline = time.monotonic() + 30
    while not _children(server.process.pid):
        assert time.monotonic() < deadline, "no delivery process"
        time.sleep(0.1)
    time.sleep(2.0)  # its interpreter starts, connects, and looks once (measured: under 1 s)


def test_the_delivery_process_is_woken_restarted_and_reports_to_the_server(
    fresh_database_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    """Deliveries run in a child of each server process, at a lower CPU priority: a queued ping
    wakes it at once (the poll interval here is an hour), a killed child is replaced, and its
    attempts show in the server's own /metrics."""
    secret = make_token(fresh_database_url)
    env = {**PRIVATE, "INVOICING_WEBHOOK_POLL_INTERVAL": "3600"}
    with Server(fresh_database_url, tmp_path, **env).start() as server:
        client = httpx.Client(base_url=server.url, headers={"accessToken": secret}, timeout=30)
        endpoint = _add_endpoint(client, receiver.url(), ["invoice.paid"])
        assert server.process is not None
        deadline = time.monotonic() + 30
        while not (children := _children(server.process.pid)):
            assert time.monotonic() < deadline, "no delivery process"
            time.sleep(0.1)
        [child] = children

        started = time.monotonic()
        _data(client.post(f"/webhooks/{endpoint['id']}/test"), 202)
        receiver.wait_for(lambda got: len(got) == 1, timeout=20)
        assert time.monotonic() - started < 20  # woken, not the hour's poll
        receiver.received[0].verify(endpoint["secret"])
        nice = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[16]
        assert nice == "10"  # API requests go first

        _reported(client, 1.0)  # recorded: the killed process leaves no attempt half done
        os.kill(child, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not [pid for pid in _children(server.process.pid) if pid != child]:
            assert time.monotonic() < deadline, "the delivery process was not replaced"
            time.sleep(0.1)
        time.sleep(1.0)  # the new one reads its settings
        _data(client.post(f"/webhooks/{endpoint['id']}/test"), 202)
        receiver.wait_for(lambda got: len(got) == 2, timeout=20)

        _reported(client, 2.0)
        client.close()
