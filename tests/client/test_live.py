"""The Python client against a real server (`invoicing serve` in a subprocess) on each database,
through the client only: its README walkthrough as written, paging through 250 invoices, a create
retried through a proxy that drops the first answer, every error status it raises, and the
service's real webhook deliveries verified (and tampered ones refused)."""

import asyncio
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from invoicing_client import (
    AsyncClient,
    AuthenticationError,
    Client,
    Conflict,
    CreditNote,
    Invoice,
    NetworkError,
    NotFound,
    Order,
    Payment,
    PermissionDenied,
    RateLimited,
    UnprocessableEntity,
    ValidationError,
    WebhookVerificationError,
    webhooks,
)

from tests.client.conftest import CLIENT_ROOT
from tests.faults.conftest import fresh_database_url  # noqa: F401 (a fixture)
from tests.receivers import Receiver
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

EXPECTED = re.compile(r"#\s*→\s*(\S.*?)\s*$")
ACME = {
    "name": "Acme GmbH",
    "email": "billing@acme.example",
    "address": {"street": "Main St 1", "city": "Hamburg", "postal_code": "20095", "country": "DE"},
}
WIDGETS: list[Any] = [
    {"name": "Widget", "sku": "W-1", "quantity": 30, "unit_price": Decimal("19.99"), "tax_rate": 19}
]


@pytest.fixture
def start(fresh_database_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:  # noqa: F811
    """`start(**env)`: a server over the fresh database, stopped at the end."""
    started: list[Server] = []

    def go(**env: str) -> Server:
        server = Server(fresh_database_url, tmp_path / f"server-{len(started)}", **env).start()
        started.append(server)
        return server

    yield go
    for server in started:
        server.stop()


@pytest.fixture
def admin(fresh_database_url: str) -> str:  # noqa: F811
    return make_token(fresh_database_url, name="client-tests")


# The README walkthrough ---------------------------------------------------------------------


# The walkthrough in Python: in the client's README, and next to the curl one in the project's.
READMES = {
    "client": (CLIENT_ROOT / "README.md", "## Walkthrough"),
    "project": (CLIENT_ROOT.parent.parent / "README.md", "### The same in Python"),
}


def walkthrough(readme: str = "client") -> str:
    path, heading = READMES[readme]
    text = path.read_text()
    section = text[text.index(heading) :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("readme", list(READMES))
def test_the_readme_walkthrough_runs_as_written(start, admin, readme):
    server = start()
    script = walkthrough(readme)
    assert 'Client("http://127.0.0.1:8000", "inv_Zk3…")' in script
    script = script.replace('"http://127.0.0.1:8000"', repr(server.url))
    script = script.replace('"inv_Zk3…"', repr(admin))
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=server.workdir,
        env={"PYTHONPATH": str(CLIENT_ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    promised = [m.group(1) for line in script.splitlines() if (m := EXPECTED.search(line))]
    assert done.stdout.splitlines() == promised == [
        "1 713.64",
        "billing@acme.example",
        "partially_paid",
        "47.58 266.06",
    ]
    assert (server.workdir / "invoice.pdf").read_bytes().startswith(b"%PDF-")
    assert len(list((server.workdir / "outbox").glob("*.eml"))) == 1


def test_the_walkthrough_figures_typed(start, admin):
    server = start()
    with Client(server.url, admin) as client:
        seller = client.seller.put(
            name="Northwind Trading Co.",
            address={"street": "Market St 400", "city": "Berlin", "postal_code": "10115",
                     "country": "DE"},
            vat_id="DE123456789",
            bank_account={"iban": "DE89 3704 0044 0532 0130 00"},
        )  # fmt: skip
        assert seller.bank_account is not None
        assert seller.bank_account.iban == "DE89370400440532013000"
        order = client.orders.create(customer=ACME, currency="EUR", line_items=WIDGETS)
        assert isinstance(order, Order) and order.status == "open"
        assert order.line_items[0].unit_price == Decimal("19.99")
        invoice = client.invoices.create(order_id=order.id, meta_fields={"po": "PO-77"})
        assert isinstance(invoice, Invoice)
        assert (invoice.number, invoice.entity_id, invoice.currency) == ("1", "1", "EUR")
        assert str(invoice.total) == "713.64" and invoice.total == Decimal("713.64")
        assert (invoice.subtotal, invoice.tax_total) == (Decimal("599.7"), Decimal("113.94"))
        assert invoice.taxes[0].rate == 19 and invoice.taxes[0].amount == Decimal("113.94")
        assert invoice.meta_fields[0].key == "po"
        assert invoice.created_at.tzinfo is not None
        assert (invoice.due_date - invoice.issue_date).days == 30
        assert client.invoices.get(invoice.id) == invoice
        assert client.invoices.pdf(invoice.id).startswith(b"%PDF-")
        assert b"<rsm:CrossIndustryInvoice" in client.invoices.cii(invoice.id)
        sent = client.invoices.send(invoice.id)
        assert [m.sent_to for m in sent.mails_sent] == ["billing@acme.example"]
        payment = client.payments.create(invoice.id, amount=400, method="bank_transfer")
        assert isinstance(payment, Payment) and payment.amount == 400
        paid = client.invoices.get(invoice.id)
        assert (paid.status, paid.paid_total, paid.amount_due) == (
            "partially_paid",
            Decimal("400"),
            Decimal("313.64"),
        )
        note = client.credit_notes.create(
            invoice.id,
            reason="Two widgets returned",
            line_items=[{"invoice_line_id": paid.line_items[0].id, "quantity": 2}],
        )
        assert isinstance(note, CreditNote) and note.number == "CN-1"
        assert note.total == Decimal("47.58") and str(note.total) == "47.58"
        assert client.credit_notes.get(note.id) == note
        assert [n.id for n in client.credit_notes.list(invoice_id=invoice.id)] == [note.id]
        assert client.credit_notes.pdf(note.id).startswith(b"%PDF-")
        after = client.invoices.get(invoice.id)
        assert (after.credited_total, after.amount_due) == (Decimal("47.58"), Decimal("266.06"))
        assert str(after.amount_due) == "266.06"
        assert client.orders.get(order.id).line_items[0].invoiced_quantity == 28
        updated = client.invoices.update(invoice.id, meta_fields=[{"key": "po", "value": "X"}])
        assert updated.meta_fields[0].value == "X" and updated.total == invoice.total


# Paging ---------------------------------------------------------------------------------------


def test_paging_through_250_invoices(start, admin):
    server = start()

    async def create() -> list[str]:
        async with AsyncClient(server.url, admin) as client:
            gate = asyncio.Semaphore(8)

            async def one(number: int) -> Order:
                async with gate:
                    return await client.orders.create(
                        customer={"name": f"Customer {number}"},
                        line_items=[{"name": "Thing", "quantity": 1, "unit_price": number}],
                    )

            orders = await asyncio.gather(*(one(n) for n in range(1, 251)))
            # One after the other, so that creation order is numbering order.
            return [(await client.invoices.create(order_id=o.id)).id for o in orders]

    created = asyncio.run(create())
    requests: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [requests.append]}, timeout=30)
    with Client(server.url, admin, http_client=http) as client:
        listed = list(client.invoices.list(limit=100))
    http.close()
    assert len(listed) == 250 and len({i.id for i in listed}) == 250
    assert [i.id for i in listed] == created[::-1]  # newest first
    assert [int(i.entity_id) for i in listed] == list(range(250, 0, -1))
    assert len(requests) == 3  # 100 + 100 + 50

    async def list_async() -> list[str]:
        async with AsyncClient(server.url, admin) as client:
            return [i.id async for i in client.invoices.list(limit=100)]

    assert asyncio.run(list_async()) == created[::-1]


# A create retried after its answer was lost -----------------------------------------------------


class DroppingProxy:
    """A TCP proxy in front of the server: it forwards each request and its answer, except that
    the first request whose head matches `drop` is forwarded, its whole answer read from the
    server (so the server has done the work), and the client's connection closed without a byte
    of it: the client cannot know whether its request was carried out."""

    def __init__(self, upstream: str, drop: str) -> None:
        url = httpx.URL(upstream)
        self.upstream = (url.host, url.port)
        self.drop = re.compile(drop.encode())
        self.dropped = 0
        self.requests: list[bytes] = []
        self.answers: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    @staticmethod
    def _message(stream: Any) -> bytes:
        """One HTTP/1.1 message (head and a Content-Length body); b"" at the end."""
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            line = stream.readline()
            if not line:
                return b""
            head += line
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        assert b"transfer-encoding" not in head.lower(), "the proxy reads Content-Length only"
        return head + (stream.read(int(length.group(1))) if length else b"")

    def _serve(self, client: socket.socket) -> None:
        server = socket.create_connection(self.upstream)
        with client, server, client.makefile("rb") as incoming, server.makefile("rb") as answers:
            while request := self._message(incoming):
                server.sendall(request)
                answer = self._message(answers)
                with self.lock:
                    self.requests.append(request)
                    self.answers.append(answer)
                    drop = not self.dropped and self.drop.match(request)
                    self.dropped += bool(drop)
                if drop:
                    client.shutdown(socket.SHUT_RDWR)
                    return
                client.sendall(answer)

    def matching(self, pattern: str) -> list[tuple[bytes, bytes]]:
        with self.lock:
            pairs = list(zip(self.requests, self.answers, strict=True))
        return [pair for pair in pairs if re.match(pattern.encode(), pair[0])]

    def close(self) -> None:
        self.listener.close()


def header(message: bytes, name: str) -> str | None:
    found = re.search(rb"(?im)^" + name.encode() + rb":\s*(.*?)\r$", message)
    return found.group(1).decode() if found else None


def test_a_create_whose_answer_is_lost_is_retried_with_its_key_and_creates_once(start, admin):
    server = start()
    proxy = DroppingProxy(server.url, drop=r"POST /invoices HTTP")
    try:
        with Client(proxy.url, admin, max_retries=2) as client:
            order = client.orders.create(customer=ACME, line_items=WIDGETS)
            invoice = client.invoices.create(order_id=order.id)
        posts = proxy.matching(r"POST /invoices HTTP")
        assert proxy.dropped == 1 and len(posts) == 2
        keys = {header(request, "idempotency-key") for request, _ in posts}
        assert len(keys) == 1 and None not in keys
        assert posts[0][0] == posts[1][0]  # the same request, byte for byte
        # The first answer (lost) created the invoice; the second is its replay.
        assert posts[0][1].startswith(b"HTTP/1.1 201") and posts[1][1].startswith(b"HTTP/1.1 201")
        assert header(posts[1][1], "idempotent-replayed") == "true"
        with Client(server.url, admin) as direct:
            invoices = list(direct.invoices.list())
        assert [i.id for i in invoices] == [invoice.id]
        assert invoice.total == Decimal("713.64")
    finally:
        proxy.close()


def test_a_send_whose_answer_is_lost_is_not_repeated(start, admin):
    server = start()
    proxy = DroppingProxy(server.url, drop=r"POST /invoices/\w+/send HTTP")
    try:
        with Client(proxy.url, admin, max_retries=2) as client:
            order = client.orders.create(customer=ACME, line_items=WIDGETS)
            invoice = client.invoices.create(order_id=order.id)
            with pytest.raises(NetworkError):
                client.invoices.send(invoice.id)
        assert len(proxy.matching(r"POST /invoices/\w+/send")) == 1
        with Client(server.url, admin) as direct:
            # It was mailed once: a retry would have mailed it twice.
            assert len(direct.invoices.get(invoice.id).mails_sent) == 1
    finally:
        proxy.close()


# Errors -----------------------------------------------------------------------------------------


def test_errors_map_to_their_exceptions(start, admin, fresh_database_url):  # noqa: F811
    server = start(INVOICING_INVOICE_SENDS_PER_HOUR="1")
    api_token = make_token(fresh_database_url, name="shop", type="api")
    with Client(server.url, admin, max_retries=0) as client:
        with pytest.raises(NotFound) as raised:
            client.invoices.get("0" * 24)
        assert (raised.value.status, raised.value.message) == (404, "Invoice not found")
        assert raised.value.request_id

        order = client.orders.create(customer=ACME, line_items=WIDGETS)
        invoice = client.invoices.create(order_id=order.id)
        with pytest.raises(Conflict) as conflict:
            client.invoices.create(order_id=order.id)
        assert conflict.value.message == "Order is already fully invoiced"
        assert [e.field for e in conflict.value.errors] == ["orderId"]
        assert invoice.id in conflict.value.errors[0].message

        with pytest.raises(ValidationError) as invalid:
            client.orders.create(
                customer={"name": "A", "email": "not an address"},
                line_items=[{"name": "W", "quantity": 0, "unit_price": 1}],
            )
        assert invalid.value.status == 400
        assert invalid.value.message.startswith("Validation error: ")
        fields = {e.field for e in invalid.value.errors}
        assert {"customer.email", "lineItems[0].quantity"} <= fields, fields

        with pytest.raises(Conflict, match="Payment exceeds the amount due"):
            client.payments.create(invoice.id, amount=Decimal("713.65"))

        # One key, another body: refused; the same body again: the first answer, nothing new.
        first = client.orders.create(customer=ACME, line_items=WIDGETS, idempotency_key="k-1")
        again = client.orders.create(customer=ACME, line_items=WIDGETS, idempotency_key="k-1")
        assert again == first
        with pytest.raises(Conflict, match="Idempotency key was already used"):
            client.orders.create(
                customer={"name": "Other"}, line_items=WIDGETS, idempotency_key="k-1"
            )

        with pytest.raises(UnprocessableEntity) as incomplete:
            client.invoices.ubl(invoice.id)
        assert incomplete.value.errors and incomplete.value.status == 422

        client.invoices.send(invoice.id)
        with pytest.raises(RateLimited) as limited:
            client.invoices.send(invoice.id)
        assert limited.value.status == 429
        assert limited.value.retry_after is not None and limited.value.retry_after > 0

    with Client(server.url, "inv_not-a-token") as stranger, pytest.raises(AuthenticationError) as e:
        stranger.invoices.get(invoice.id)
    assert (e.value.status, e.value.message) == (401, "Invalid or missing access token")

    with Client(server.url, api_token) as shop:
        assert shop.invoices.get(invoice.id).id == invoice.id
        assert shop.seller.get().name
        for admin_only in (
            lambda: shop.seller.put(name="Mine now"),
            lambda: shop.tokens.list(),
            lambda: list(shop.webhooks.list()),
        ):
            with pytest.raises(PermissionDenied) as denied:
                admin_only()
            assert denied.value.message == "This action requires an admin access token"


# Webhooks ---------------------------------------------------------------------------------------


def test_the_services_real_deliveries_verify_and_tampered_ones_do_not(start, admin):
    server = start(INVOICING_WEBHOOK_ALLOW_PRIVATE="true", INVOICING_WEBHOOK_POLL_INTERVAL="0.2")
    receiver = Receiver().start()
    try:
        with Client(server.url, admin) as client:
            endpoint = client.webhooks.create(url=receiver.url(), description="client tests")
            assert endpoint.secret.startswith("whsec_") and endpoint.events == ["*"]
            assert client.webhooks.get(endpoint.id).url == receiver.url()
            order = client.orders.create(customer=ACME, line_items=WIDGETS)
            invoice = client.invoices.create(order_id=order.id)
            payment = client.payments.create(invoice.id, amount=Decimal("13.64"))
            note = client.credit_notes.create(invoice.id, reason="Returned")
            ping = client.webhooks.test(endpoint.id)
            receiver.wait_for(lambda got: len(got) >= 5)

            events = {}
            for got in receiver.received:
                event = webhooks.verify(got.headers, got.body, endpoint.secret)
                assert event.id == got.headers["webhook-id"]
                assert event.created_at.tzinfo is not None
                events[event.type] = event
            assert set(events) == {
                "order.created", "invoice.created", "payment.created", "creditnote.created",
                "ping",
            }  # fmt: skip
            created = events["invoice.created"]
            assert isinstance(created, webhooks.InvoiceEvent)
            assert created.data == invoice  # the invoice as it was created, to the cent
            assert created.data.total == Decimal("713.64")
            assert isinstance(events["order.created"], webhooks.OrderEvent)
            assert events["order.created"].data == order
            assert isinstance(events["payment.created"], webhooks.PaymentEvent)
            assert events["payment.created"].data == payment
            assert isinstance(events["creditnote.created"], webhooks.CreditNoteEvent)
            assert events["creditnote.created"].data == note
            assert isinstance(events["ping"], webhooks.PingEvent)
            assert events["ping"].id == ping.event_id
            assert events["ping"].data.endpoint_id == endpoint.id

            # Tampered: the body, the signature, the id; or the wrong secret.
            got = next(r for r in receiver.received if r.event["type"] == "invoice.created")
            assert b"713.64" in got.body
            forged = got.body.replace(b"713.64", b"0.01")
            for headers, body, secret in [
                (got.headers, forged, endpoint.secret),
                ({**got.headers, "webhook-signature": "v1,AAAA"}, got.body, endpoint.secret),
                ({**got.headers, "webhook-signature": "v1"}, got.body, endpoint.secret),
                ({**got.headers, "webhook-id": "6b04d9f52a6bb07c65fce2c0"}, got.body,
                 endpoint.secret),
                ({k: v for k, v in got.headers.items() if k != "webhook-timestamp"}, got.body,
                 endpoint.secret),
                (got.headers, got.body, "whsec_" + "A" * 32),
            ]:  # fmt: skip
                with pytest.raises(WebhookVerificationError):
                    webhooks.verify(headers, body, secret)

            deliveries = list(client.webhooks.deliveries(endpoint.id))
            assert {d.event_id for d in deliveries} >= {ping.event_id}

            # After a rotation both secrets verify, for 24 hours.
            rotated = client.webhooks.rotate_secret(endpoint.id)
            assert rotated.secret != endpoint.secret
            client.orders.create(customer=ACME, line_items=WIDGETS)
            receiver.wait_for(lambda got: len(got) >= 6)
            last = receiver.received[-1]
            for secret in (rotated.secret, endpoint.secret):
                assert webhooks.verify(last.headers, last.body, secret).type == "order.created"

            disabled = client.webhooks.update(endpoint.id, enabled=False)
            assert disabled.enabled is False
            assert client.webhooks.delete(endpoint.id).id == endpoint.id
            with pytest.raises(NotFound):
                client.webhooks.get(endpoint.id)
    finally:
        receiver.stop()


def test_tokens_through_the_client(start, admin):
    server = start()
    with Client(server.url, admin) as client:
        new = client.tokens.create(name="Web shop")
        assert new.type == "api" and new.token and new.revoked_at is None
        with Client(server.url, new.token) as shop:
            assert list(shop.invoices.list()) == []
        assert new.id in {t.id for t in client.tokens.list()}
        revoked = client.tokens.revoke(new.id)
        assert revoked.revoked_at is not None
        assert new.id not in {t.id for t in client.tokens.list()}
        assert new.id in {t.id for t in client.tokens.list(include_revoked=True)}
        with Client(server.url, new.token) as shop, pytest.raises(AuthenticationError):
            shop.orders.get("0" * 24)
