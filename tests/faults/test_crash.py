"""Crash safety: a real server is `kill -9`ed several times while threads create orders
and invoices, and restarted on the same database. Every request carries its own Idempotency-Key
and is retried with it until it gets an answer, so afterwards the database must hold exactly what
the clients were told: every acknowledged invoice with identical content and nothing else,
numbers 1..N without gap or repeat, no order invoiced beyond its quantities, and numbering that
carries on after the last restart."""

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.helpers import line, order_body
from tests.servers import Clients, Server, list_all, make_token

pytestmark = pytest.mark.slow

WORKERS = 6
KILLS = 3
LOAD_SECONDS = (0.8, 1.6)  # load between two kills, at random
GIVE_UP = 30.0  # one request retried this long without an answer fails the test


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


class Load:
    """Worker threads creating orders and (full or partial) invoices against whichever server
    process is current, retrying each request with its Idempotency-Key across crashes."""

    def __init__(self, server: Server, clients: Clients) -> None:
        self.server = server
        self.clients = clients
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.orders: list[dict[str, Any]] = []
        self.invoices: dict[str, dict[str, Any]] = {}  # acknowledged, by id
        self.statuses: Counter[int] = Counter()
        self.sent = 0  # HTTP requests sent (retries included)
        self.refused = 0  # attempts while no server was listening
        self.cut = 0  # requests in flight when the server died
        self.replayed = 0  # retries answered from the idempotency record (committed, unanswered)
        self.failures: list[str] = []

    def request(self, path: str, body: dict[str, Any]) -> httpx.Response:
        key = uuid.uuid4().hex
        deadline = time.monotonic() + GIVE_UP
        while True:
            url = self.server.url
            with self.lock:
                self.sent += 1
            try:
                response = self.clients.get(url).post(
                    path, json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError as error:
                with self.lock:
                    if isinstance(error, httpx.ConnectError):
                        self.refused += 1
                    else:
                        self.cut += 1
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
                continue
            with self.lock:
                self.statuses[response.status_code] += 1
                self.replayed += response.headers.get("idempotent-replayed") == "true"
            return response

    def work(self, seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not self.stop.is_set():
                with self.lock:
                    orders = list(self.orders)
                if len(orders) < 5 or rng.random() < 0.3:
                    self.create_order(rng)
                else:
                    self.create_invoice(rng, rng.choice(orders))
        except Exception as error:
            self.failures.append(f"{type(error).__name__}: {error}")

    def create_order(self, rng: random.Random) -> None:
        lines = [line("Bolt", rng.choice([2, 3, "2.5"]), "0.3333", 19), line("Nut", 4, "1.05", 7)]
        response = self.request("/orders", order_body(lineItems=lines[: rng.randint(1, 2)]))
        if response.status_code != 201:
            self.failures.append(f"order: {response.status_code} {response.text}")
            return
        with self.lock:
            self.orders.append(response.json()["data"])

    def create_invoice(self, rng: random.Random, order: dict[str, Any]) -> None:
        body: dict[str, Any] = {"orderId": order["id"]}
        if rng.random() < 0.7:
            item = rng.choice(order["lineItems"])
            body["lineItems"] = [{"lineItemId": item["id"], "quantity": rng.choice([1, "0.5"])}]
        response = self.request("/invoices", body)
        if response.status_code == 201:
            invoice = response.json()["data"]
            with self.lock:
                assert invoice["id"] not in self.invoices
                self.invoices[invoice["id"]] = invoice
        elif response.status_code == 400 and "exceeds" in response.json()["message"]:
            pass  # that line has less left than asked for
        elif (
            response.status_code == 409
            and response.json()["message"] == "Order is already fully invoiced"
        ):
            pass
        else:
            self.failures.append(f"invoice: {response.status_code} {response.text}")


def test_kill_9_mid_load_loses_and_duplicates_nothing(
    fresh_database_url: str, tmp_path: Any, backend: str
) -> None:
    started = time.monotonic()
    secret = make_token(fresh_database_url, name="crash")
    server = Server(fresh_database_url, tmp_path / "server").start()
    rng = random.Random(4)
    with Clients(secret, timeout=10) as clients:
        load = Load(server, clients)
        threads = [threading.Thread(target=load.work, args=(i,)) for i in range(WORKERS)]
        try:
            for thread in threads:
                thread.start()
            kills = 0
            for _ in range(KILLS):
                time.sleep(rng.uniform(*LOAD_SECONDS))
                server.kill()
                kills += 1
                server.start()  # same database, a new port: the workers follow it
            time.sleep(rng.uniform(*LOAD_SECONDS))
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(GIVE_UP + 10)
        try:
            assert not load.failures, load.failures[:5]
            assert load.statuses[500] == 0 and not [s for s in load.statuses if s >= 500], (
                load.statuses
            )
            _check(clients.get(server.url), load)
        finally:
            server.stop()
    elapsed = time.monotonic() - started
    print(
        f"\ncrash[{backend}]: {load.sent} requests sent ({load.cut} cut mid-flight by a kill, "
        f"{load.refused} refused while down, {load.replayed} answered by an idempotent replay), "
        f"{len(load.orders)} orders and {len(load.invoices)} invoices acknowledged, "
        f"{kills} kills survived, statuses {dict(load.statuses)}, {elapsed:.1f} s"
    )
    assert kills == KILLS
    assert len(load.invoices) > 20, "too little load to prove anything"
    assert elapsed < 60


def _check(client: httpx.Client, load: Load) -> None:
    # Every acknowledged invoice is there, with identical content.
    for invoice_id, acknowledged in load.invoices.items():
        response = client.get(f"/invoices/{invoice_id}")
        assert response.status_code == 200, response.text
        assert response.json()["data"] == acknowledged

    # Numbers 1..N, no gap, no repeat; and nothing the clients were not told about (each request
    # was retried with its idempotency key until it got an answer).
    invoices = list_all(client, "/invoices")
    numbers = sorted(int(invoice["entityId"]) for invoice in invoices)
    assert numbers == list(range(1, len(invoices) + 1))
    assert len({invoice["id"] for invoice in invoices}) == len(invoices)
    assert {invoice["id"] for invoice in invoices} == set(load.invoices)
    orders = list_all(client, "/orders")
    assert {order["id"] for order in orders} == {order["id"] for order in load.orders}

    # No order invoiced beyond its quantities; what the orders record matches the invoices.
    quantity: dict[str, Decimal] = defaultdict(Decimal)
    amount: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        for item in invoice["lineItems"]:
            quantity[item["lineItemId"]] += _d(item["quantity"])
            amount[item["lineItemId"]] += _d(item["amount"])
    for order in orders:
        invoiced = [quantity[item["id"]] for item in order["lineItems"]]
        for item in order["lineItems"]:
            assert quantity[item["id"]] <= _d(item["quantity"])
            assert _d(item["invoicedQuantity"]) == quantity[item["id"]]
            if quantity[item["id"]] == _d(item["quantity"]):
                assert amount[item["id"]] == _d(item["amount"])
        expected = (
            "open"
            if not any(invoiced)
            else "invoiced"
            if all(
                q == _d(i["quantity"]) for q, i in zip(invoiced, order["lineItems"], strict=True)
            )
            else "partially_invoiced"
        )
        assert order["status"] == expected

    # The restarted server carries on numbering from where it was.
    open_order = next((o for o in orders if o["status"] != "invoiced"), None)
    if open_order is None:
        response = client.post("/orders", json=order_body())
        assert response.status_code == 201
        open_order = response.json()["data"]
    response = client.post("/invoices", json={"orderId": open_order["id"]})
    assert response.status_code == 201, response.text
    assert response.json()["data"]["entityId"] == str(len(invoices) + 1)
