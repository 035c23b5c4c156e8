"""Invoices, credit notes and payments from two real server processes on one database (SQLite and
PostgreSQL), with printed numbers (`INV-{year}-{seq:05}`, `CN-{year}-{seq:05}`): both series stay
gapless and unique under concurrent creates, an invoice is never credited beyond what it billed
nor paid beyond what is due, amountDue never drops below -creditedTotal, and nothing answers 5xx."""

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.faults.conftest import reset
from tests.helpers import order_body
from tests.servers import Clients, Server, start_all

pytestmark = pytest.mark.slow

NUMBERING = {
    "INVOICING_INVOICE_NUMBER_FORMAT": "INV-{year}-{seq:05}",
    "INVOICING_CREDIT_NOTE_NUMBER_FORMAT": "CN-{year}-{seq:05}",
}
FULLY_CREDITED = "Invoice is already fully credited"
NOTHING_TO_PAY = "Invoice has nothing left to pay"
EXCEEDS_AMOUNT_DUE = "Payment exceeds the amount due"


def d(value: Any) -> Decimal:
    return Decimal(str(value))


class Pair:
    """The module's two servers (on an emptied database) and clients for them."""

    def __init__(self, servers: list[Server], clients: Clients, backend: str) -> None:
        self.servers = servers
        self.urls = [server.url for server in servers]
        self.clients = clients
        self.backend = backend

    def client(self, i: int) -> httpx.Client:
        """Server i % 2's client (for this thread)."""
        return self.clients.get(self.urls[i % 2])

    def no_5xx(self, responses: list[httpx.Response]) -> None:
        failed = [
            f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text}"
            for r in responses
            if r.status_code >= 500
        ]
        if failed:
            logs = "\n".join(server.logs()[-4000:] for server in self.servers)
            raise AssertionError(f"{len(failed)} x 5xx, first: {failed[:3]}\nlogs:\n{logs}")


def concurrently(
    calls: list[Callable[[], httpx.Response]], workers: int | None = None
) -> list[httpx.Response]:
    """Run every call from its own thread (or a pool of `workers`); the first batch is released
    together by a barrier."""
    workers = min(workers or len(calls), len(calls))
    barrier = threading.Barrier(workers)
    results: list[httpx.Response | None] = [None] * len(calls)
    errors: list[BaseException] = []
    next_call = iter(range(len(calls)))
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait(timeout=60)
        while True:
            with lock:
                index = next(next_call, None)
            if index is None:
                return
            try:
                results[index] = calls[index]()
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)
                return

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


@pytest.fixture(scope="module")
def numbered_servers(
    module_database_url: str, module_secret: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    """Two server processes on the module's database, numbering with a year and a padded
    sequence; stopped when the module ends."""
    base: Path = tmp_path_factory.mktemp("numbered-servers")
    pair = [Server(module_database_url, base / name, **NUMBERING) for name in ("a", "b")]
    try:
        yield start_all(pair)
    finally:
        for server in pair:
            server.stop()


@pytest.fixture
def two(
    numbered_servers: list[Server], module_secret: str, module_database_url: str
) -> Iterator[Pair]:
    reset(module_database_url)
    backend = "postgresql" if module_database_url.startswith("postgres") else "sqlite"
    with Clients(module_secret, timeout=120) as clients:
        yield Pair(numbered_servers, clients, backend)
    for server in numbered_servers:
        assert server.process is not None and server.process.poll() is None, "a server died"


def _year() -> int:
    return datetime.now(UTC).year  # issue dates are in INVOICING_TIMEZONE, UTC by default


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def _invoice(pair: Pair, i: int = 0, **order: Any) -> dict[str, Any]:
    made = _created(pair.client(i).post("/orders", json=order_body(**order)))
    return _created(pair.client(i + 1).post("/invoices", json={"orderId": made["id"]}))


def _get_invoice(pair: Pair, invoice_id: str, i: int = 0) -> dict[str, Any]:
    response = pair.client(i).get(f"/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    invoice: dict[str, Any] = response.json()["data"]
    # Never below what the customer is owed back: -creditedTotal (paid at most the total).
    assert d(invoice["amountDue"]) >= -d(invoice["creditedTotal"]), invoice
    assert d(invoice["amountDue"]) == (
        d(invoice["total"]) - d(invoice["creditedTotal"]) - d(invoice["paidTotal"])
    )
    return invoice


def _refusals(responses: list[httpx.Response], *messages: str) -> None:
    for r in responses:
        if r.status_code != 201:
            assert r.status_code == 409, r.text
            assert r.json()["success"] is False and r.json()["message"] in messages, r.text


def test_200_concurrent_invoices_then_60_credit_notes_number_gaplessly(
    two: Pair, capsys: pytest.CaptureFixture[str]
) -> None:
    year = _year()
    orders = concurrently(
        [(lambda i=i: two.client(i).post("/orders", json=order_body())) for i in range(200)],
        workers=50,
    )
    two.no_5xx(orders)
    order_ids = [_created(r)["id"] for r in orders]

    calls = [
        (lambda i=i, order_id=order_id: two.client(i).post("/invoices", json={"orderId": order_id}))
        for i, order_id in enumerate(order_ids)
    ]
    started = time.monotonic()
    responses = concurrently(calls)  # 200 threads, released together
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[{two.backend}] 200 concurrent POST /invoices over 2 processes: {elapsed:.2f} s")
    two.no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 200}
    invoices = [r.json()["data"] for r in responses]
    assert sorted(int(i["entityId"]) for i in invoices) == list(range(1, 201))
    assert sorted(i["number"] for i in invoices) == [f"INV-{year}-{n:05}" for n in range(1, 201)]
    assert {i["issueDate"][:4] for i in invoices} == {str(year)}
    assert sorted(i["order"] for i in invoices) == sorted(order_ids)
    found = two.client(1).get("/invoices", params={"number": f"INV-{year}-00200"})
    assert [i["number"] for i in found.json()["data"]] == [f"INV-{year}-00200"]

    # A full credit note of each of 60 invoices, all at once, from both processes.
    credited = invoices[:60]
    notes = concurrently(
        [
            (
                lambda i=i, invoice=invoice: two.client(i).post(
                    f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Cancelled"}
                )
            )
            for i, invoice in enumerate(credited)
        ]
    )
    two.no_5xx(notes)
    assert Counter(r.status_code for r in notes) == {201: 60}
    made = [r.json()["data"] for r in notes]
    assert sorted(int(n["entityId"]) for n in made) == list(range(1, 61))
    assert sorted(n["number"] for n in made) == [f"CN-{year}-{n:05}" for n in range(1, 61)]
    for invoice, note in zip(credited, made, strict=True):
        assert (note["invoice"], note["invoiceNumber"]) == (invoice["id"], invoice["number"])
        assert (note["subtotal"], note["taxes"], note["total"]) == (
            invoice["subtotal"],
            invoice["taxes"],
            invoice["total"],
        )
    for i, invoice in enumerate(credited[:10]):
        now = _get_invoice(two, invoice["id"], i)
        assert (now["status"], now["creditedTotal"], now["amountDue"]) == (
            "credited",
            invoice["total"],
            0,
        )
        order = two.client(i).get(f"/orders/{invoice['order']}").json()["data"]
        assert order["status"] == "open"  # everything credited goes back to the order
    assert _get_invoice(two, invoices[60]["id"])["status"] == "open"


def test_30_concurrent_full_credit_notes_of_one_invoice_make_exactly_one(two: Pair) -> None:
    invoice = _invoice(two)
    responses = concurrently(
        [
            (
                lambda i=i: two.client(i).post(
                    f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"}
                )
            )
            for i in range(30)
        ]
    )
    two.no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 29}
    _refusals(responses, FULLY_CREDITED)
    note = next(r.json()["data"] for r in responses if r.status_code == 201)
    assert note["number"] == f"CN-{_year()}-00001"
    assert note["total"] == invoice["total"]
    now = _get_invoice(two, invoice["id"], 1)
    assert (now["creditedTotal"], now["amountDue"], now["status"]) == (
        invoice["total"],
        0,
        "credited",
    )
    listed = two.client(0).get("/credit-notes", params={"invoiceId": invoice["id"]})
    assert [n["id"] for n in listed.json()["data"]] == [note["id"]]


def test_40_concurrent_partial_credit_notes_never_credit_more_than_billed(two: Pair) -> None:
    """30 widgets at 19.99 (8.25 %), credited one widget per request by 40 requests at once:
    exactly 30 succeed, and together they give back exactly the invoice, tax included."""
    invoice = _invoice(two)
    line_id = invoice["lineItems"][0]["id"]
    body = {"reason": "One returned", "lineItems": [{"invoiceLineId": line_id, "quantity": 1}]}
    responses = concurrently(
        [
            (lambda i=i: two.client(i).post(f"/invoices/{invoice['id']}/credit-notes", json=body))
            for i in range(40)
        ]
    )
    two.no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 30, 409: 10}
    _refusals(responses, FULLY_CREDITED)
    notes = [r.json()["data"] for r in responses if r.status_code == 201]
    year = _year()
    assert sorted(n["number"] for n in notes) == [f"CN-{year}-{n:05}" for n in range(1, 31)]
    for key in ("subtotal", "taxTotal", "total"):
        assert sum(d(n[key]) for n in notes) == d(invoice[key]), key
    now = _get_invoice(two, invoice["id"])
    assert (d(now["creditedTotal"]), now["amountDue"], now["status"]) == (
        d(invoice["total"]),
        0,
        "credited",
    )


def test_30_concurrent_payments_of_the_amount_due_make_exactly_one(two: Pair) -> None:
    invoice = _invoice(two)
    body = {"amount": invoice["amountDue"], "method": "bank_transfer"}
    responses = concurrently(
        [
            (lambda i=i: two.client(i).post(f"/invoices/{invoice['id']}/payments", json=body))
            for i in range(30)
        ]
    )
    two.no_5xx(responses)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 29}
    _refusals(responses, NOTHING_TO_PAY, EXCEEDS_AMOUNT_DUE)
    now = _get_invoice(two, invoice["id"], 1)
    assert (now["paidTotal"], now["amountDue"], now["status"]) == (invoice["total"], 0, "paid")
    assert len(now["payments"]) == 1


def test_concurrent_payments_and_credit_notes_of_one_invoice(two: Pair) -> None:
    """20 payments of a tenth of the total and 10 credit notes of 3 of its 30 widgets, all at
    once: every credit note goes through (they never depend on payments), payments only while
    something is due, and in the end the invoice is credited, paid at most its total."""
    invoice = _invoice(two)
    url = f"/invoices/{invoice['id']}"
    tenth = (d(invoice["total"]) / 10).quantize(Decimal("0.01"))
    line_id = invoice["lineItems"][0]["id"]
    credit = {"reason": "Three returned", "lineItems": [{"invoiceLineId": line_id, "quantity": 3}]}
    calls = [
        (lambda i=i: two.client(i).post(f"{url}/payments", json={"amount": str(tenth)}))
        for i in range(20)
    ] + [(lambda i=i: two.client(i).post(f"{url}/credit-notes", json=credit)) for i in range(10)]
    responses = concurrently(calls)
    two.no_5xx(responses)
    payments, notes = responses[:20], responses[20:]
    assert [r.status_code for r in notes] == [201] * 10
    _refusals(payments, NOTHING_TO_PAY, EXCEEDS_AMOUNT_DUE)
    paid = sum(
        (d(r.json()["data"]["amount"]) for r in payments if r.status_code == 201), Decimal(0)
    )
    credited = sum((d(r.json()["data"]["total"]) for r in notes), Decimal(0))
    assert credited == d(invoice["total"])
    assert paid <= d(invoice["total"])
    year = _year()
    assert sorted(r.json()["data"]["number"] for r in notes) == [
        f"CN-{year}-{n:05}" for n in range(1, 11)
    ]
    now = _get_invoice(two, invoice["id"])
    assert (d(now["paidTotal"]), d(now["creditedTotal"])) == (paid, credited)
    assert d(now["amountDue"]) == -paid
    assert now["status"] == "credited"
    assert sorted(d(p["amount"]) for p in now["payments"]) == sorted(
        d(r.json()["data"]["amount"]) for r in payments if r.status_code == 201
    )
