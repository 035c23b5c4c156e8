"""The client's request machinery without a server (httpx.MockTransport): exact numbers both ways,
the retry policy (what is retried, how often, how long it waits, with which Idempotency-Key),
the exception for every status, and paging. Each behaviour is checked on the sync client and on
the async one, which share everything but the I/O."""

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from invoicing_client import (
    APIError,
    AsyncClient,
    AuthenticationError,
    Client,
    Conflict,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    Timeout,
    UnprocessableEntity,
    UnsupportedMediaType,
    ValidationError,
    _core,
)

BASE = "http://invoicing.test"
ID = "6b04d9f52a6bb07c65fce2c0"
PAYMENT = {
    "id": ID,
    "_id": ID,
    "invoice": "6b04d9f52a6bb07c65fce2c1",
    "amount": 713.64,
    "currency": "EUR",
    "paidAt": "2026-03-05",
    "method": "bank_transfer",
    "reference": None,
    "createdBy": {"id": "6b04d9f52a6bb07c65fce2c2", "name": "shop", "type": "api"},
    "createdAt": "2026-03-05T10:12:44.021Z",
}


def endpoint(number: int) -> dict[str, Any]:
    return {
        "id": f"{number:024x}",
        "_id": f"{number:024x}",
        "url": f"https://shop.example/hooks/{number}",
        "events": ["*"],
        "description": "",
        "enabled": True,
        "disabledReason": None,
        "createdAt": "2026-03-05T10:12:44.021Z",
        "updatedAt": "2026-03-05T10:12:44.021Z",
    }


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data})


def fail(status: int, message: str = "no", **extra: Any) -> httpx.Response:
    headers = extra.pop("headers", {})
    return httpx.Response(
        status, json={"success": False, "message": message, **extra}, headers=headers
    )


class Recorder:
    """A mock service: answers each request with the next of `answers` (a response, or an
    exception to raise as the network would), and records what it was sent."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def keys(self) -> list[str | None]:
        return [r.headers.get("idempotency-key") for r in self.requests]


class Sync:
    """The sync client over a mock, with its waits recorded instead of slept."""

    name = "sync"

    def __init__(self, recorder: Recorder, **options: Any) -> None:
        self.client = Client(BASE, "inv_test", http_client=httpx.Client(
            transport=httpx.MockTransport(recorder)), **options)  # fmt: skip
        self.waits: list[float] = []
        self.client._transport.sleep = self.waits.append
        self.client._transport.policy.random = lambda: 1.0  # the top of each jitter range

    def call(self, do: Callable[[Any], Any]) -> Any:
        result = do(self.client)
        return list(result) if isinstance(result, Iterator) else result


class Async:
    name = "async"

    def __init__(self, recorder: Recorder, **options: Any) -> None:
        self.recorder, self.options = recorder, options
        self.waits: list[float] = []

    def call(self, do: Callable[[Any], Any]) -> Any:
        async def run() -> Any:
            http = httpx.AsyncClient(transport=httpx.MockTransport(self.recorder))
            async with AsyncClient(BASE, "inv_test", http_client=http, **self.options) as client:

                async def wait(seconds: float) -> None:
                    self.waits.append(seconds)

                client._transport.sleep = wait
                client._transport.policy.random = lambda: 1.0
                result = do(client)
                if hasattr(result, "__aiter__"):
                    return [item async for item in result]
                return await result

        return asyncio.run(run())


@pytest.fixture(params=[Sync, Async], ids=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> type:
    kind: type = request.param
    return kind


# Numbers ----------------------------------------------------------------------------------------


def test_amounts_are_read_digit_for_digit_as_decimals(kind):
    body = (
        '{"success": true, "data": '
        + json.dumps(PAYMENT).replace("713.64", "12345678901234567.8900000000000000000001")
        + "}"
    )
    recorder = Recorder(httpx.Response(200, content=body.encode()))
    payment = kind(recorder).call(lambda c: c.payments.create(ID, amount=1))
    assert payment.amount == Decimal("12345678901234567.8900000000000000000001")
    plain = kind(Recorder(ok(PAYMENT, 201))).call(lambda c: c.payments.create(ID, amount=1))
    assert str(plain.amount) == "713.64" and isinstance(plain.amount, Decimal)
    assert plain.paid_at == date(2026, 3, 5)
    assert plain.created_at.tzinfo is not None and plain.created_at.microsecond == 21000


def test_decimals_are_sent_as_json_numbers_with_their_exact_digits(kind):
    recorder = Recorder(ok(PAYMENT, 201))
    amount = Decimal("0.1000000000000000055511151231257827")
    kind(recorder).call(lambda c: c.payments.create(ID, amount=amount, paid_at=date(2026, 3, 5)))
    sent = recorder.requests[0].content
    assert sent == b'{"amount":0.1000000000000000055511151231257827,"paidAt":"2026-03-05"}'
    assert json.loads(sent, parse_float=Decimal)["amount"] == amount
    assert recorder.requests[0].headers["content-type"] == "application/json"


def test_bodies_are_camel_case_without_the_arguments_not_given():
    body = _core.encode(
        _core.body(
            customer={"name": "Ünïcode \"GmbH\"", "vat_id": "DE1"},
            line_items=[{"name": "W", "quantity": 30, "unit_price": Decimal("19.990"),
                         "tax_rate": Decimal("1E+1")}],
            currency=None,
            meta_fields={"po_number": "PO-77"},
        )
    )  # fmt: skip
    assert body == (
        b'{"customer":{"name":"\\u00dcn\\u00efcode \\"GmbH\\"","vatId":"DE1"},'
        b'"lineItems":[{"name":"W","quantity":30,"unitPrice":19.990,"taxRate":10}],'
        b'"metaFields":[{"key":"po_number","value":"PO-77"}]}'
    )
    for bad in (Decimal("NaN"), Decimal("Infinity"), float("nan")):
        with pytest.raises(ValueError):
            _core.encode({"amount": bad})


# Retries ----------------------------------------------------------------------------------------


def test_a_create_is_retried_after_503_with_one_idempotency_key_and_backoff(kind):
    recorder = Recorder(fail(503), fail(503), ok(PAYMENT, 201))
    client = kind(recorder)
    payment = client.call(lambda c: c.payments.create(ID, amount=Decimal("713.64")))
    assert payment.id == ID
    assert len(recorder.requests) == 3
    assert len(set(recorder.keys)) == 1 and recorder.keys[0]
    assert len({r.content for r in recorder.requests}) == 1
    # Full jitter over 0.5 s, then 1 s (random() patched to its top).
    assert client.waits == [0.5, 1.0]


def test_each_logical_create_has_its_own_key_and_a_given_key_is_used(kind):
    recorder = Recorder(ok(PAYMENT, 201))
    client = kind(recorder)
    client.call(lambda c: c.payments.create(ID, amount=1))
    client.call(lambda c: c.payments.create(ID, amount=1))
    client.call(lambda c: c.payments.create(ID, amount=1, idempotency_key="order-77-payment"))
    assert recorder.keys[0] != recorder.keys[1]
    assert recorder.keys[2] == "order-77-payment"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retry_after_is_honoured(kind, status):
    recorder = Recorder(fail(status, headers={"Retry-After": "3"}), ok(endpoint(1)))
    client = kind(recorder)
    client.call(lambda c: c.webhooks.get(ID))
    assert client.waits == [3.0] and len(recorder.requests) == 2


def test_a_retry_after_too_long_to_wait_is_raised_at_once(kind):
    recorder = Recorder(fail(429, "Too many sends", headers={"Retry-After": "3600"}))
    client = kind(recorder)
    with pytest.raises(RateLimited) as raised:
        client.call(lambda c: c.invoices.pdf(ID))
    assert raised.value.retry_after == 3600 and raised.value.message == "Too many sends"
    assert len(recorder.requests) == 1 and client.waits == []


def test_retries_stop_at_max_retries(kind):
    recorder = Recorder(fail(503, "The database did not answer"))
    client = kind(recorder, max_retries=4)
    with pytest.raises(ServerError) as raised:
        client.call(lambda c: c.invoices.pdf(ID))
    assert raised.value.status == 503 and raised.value.message == "The database did not answer"
    assert len(recorder.requests) == 5
    assert client.waits == [0.5, 1.0, 2.0, 4.0]  # exponential, capped at 8 s
    none = Recorder(fail(503))
    with pytest.raises(ServerError):
        kind(none, max_retries=0).call(lambda c: c.invoices.pdf(ID))
    assert len(none.requests) == 1


def test_backoff_is_capped_and_jittered():
    policy = _core.RetryPolicy(max_retries=10, random=lambda: 1.0)
    assert [policy.backoff(n) for n in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    policy.random = lambda: 0.25
    assert policy.backoff(3) == 1.0


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 415, 422, 500, 501])
def test_other_statuses_are_not_retried(kind, status):
    recorder = Recorder(fail(status))
    with pytest.raises(APIError):
        kind(recorder).call(lambda c: c.invoices.get(ID))
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (httpx.ConnectError("refused"), NetworkError),
        (httpx.ReadError("reset"), NetworkError),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."),
         NetworkError),
        (httpx.ReadTimeout("slow"), Timeout),
    ],
)  # fmt: skip
def test_network_errors_are_retried_then_raised(kind, error, raised):
    recorder = Recorder(error)
    with pytest.raises(raised) as caught:
        kind(recorder).call(lambda c: c.invoices.create(order_id=ID))
    assert len(recorder.requests) == 3 and len(set(recorder.keys)) == 1
    assert caught.value.status is None and "after 3 attempts" in caught.value.message
    assert isinstance(caught.value.__cause__, type(error))


def test_a_url_httpx_cannot_send_to_is_not_retried(kind):
    recorder = Recorder(httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))
    with pytest.raises(NetworkError, match="after 1 attempt"):
        kind(recorder).call(lambda c: c.invoices.get(ID))
    assert len(recorder.requests) == 1


# Each write, and what it may be retried after: (call, deduped or idempotent by nature).
WRITES: list[tuple[str, Callable[[Any], Any], bool]] = [
    ("orders.create", lambda c: c.orders.create(customer={"name": "A"}, line_items=[]), True),
    ("invoices.create", lambda c: c.invoices.create(order_id=ID), True),
    ("invoices.update", lambda c: c.invoices.update(ID, meta_fields={}), True),
    ("payments.create", lambda c: c.payments.create(ID, amount=1), True),
    ("credit_notes.create", lambda c: c.credit_notes.create(ID, reason="r"), True),
    ("credit_notes.update", lambda c: c.credit_notes.update(ID, meta_fields=[]), True),
    ("seller.put", lambda c: c.seller.put(name="N"), True),
    ("webhooks.update", lambda c: c.webhooks.update(ID, enabled=True), True),
    ("webhooks.delete", lambda c: c.webhooks.delete(ID), True),
    ("tokens.revoke", lambda c: c.tokens.revoke(ID), True),
    ("invoices.send", lambda c: c.invoices.send(ID), False),
    ("credit_notes.send", lambda c: c.credit_notes.send(ID, to="a@b.example"), False),
    ("webhooks.create", lambda c: c.webhooks.create(url="https://x.example"), False),
    ("webhooks.rotate_secret", lambda c: c.webhooks.rotate_secret(ID), False),
    ("webhooks.test", lambda c: c.webhooks.test(ID), False),
    ("webhooks.retry", lambda c: c.webhooks.retry(ID, ID), False),
    ("tokens.create", lambda c: c.tokens.create(name="shop"), False),
]


@pytest.mark.parametrize(("name", "call", "repeatable"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_the_service_does_not_dedupe_are_retried_only_when_surely_not_sent(
    kind, name, call, repeatable
):
    attempts = 3 if repeatable else 1
    for answer in (fail(503), httpx.ReadError("reset"), httpx.ReadTimeout("slow")):
        recorder = Recorder(answer)
        with pytest.raises((ServerError, NetworkError)):
            kind(recorder).call(call)
        assert len(recorder.requests) == attempts, (name, answer)
    # A connection that could not be made: the request did not leave, so every call retries.
    for error in (httpx.ConnectError("refused"), httpx.ConnectTimeout("no SYN-ACK")):
        recorder = Recorder(error)
        with pytest.raises(NetworkError):
            kind(recorder).call(call)
        assert len(recorder.requests) == 3, (name, error)


DEDUPED = {"orders.create", "invoices.create", "payments.create", "credit_notes.create"}


def test_the_creates_the_service_dedupes_carry_an_idempotency_key(kind):
    """Where the API takes one (the drift test holds the list to the OpenAPI document); the
    service would ignore it on the other writes, so none is sent to suggest otherwise."""
    for name, call, _ in WRITES:
        recorder = Recorder(fail(400))
        with pytest.raises(ValidationError):
            kind(recorder).call(call)
        key = recorder.requests[0].headers.get("idempotency-key")
        assert (key is not None) == (name in DEDUPED), name


# Errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, ValidationError),
        (401, AuthenticationError),
        (403, PermissionDenied),
        (404, NotFound),
        (409, Conflict),
        (413, PayloadTooLarge),
        (415, UnsupportedMediaType),
        (422, UnprocessableEntity),
        (429, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (408, APIError),
        (418, APIError),
    ],
)
def test_each_status_raises_its_exception_with_the_services_message(kind, status, exception):
    answer = fail(
        status,
        "Order is already fully invoiced",
        errors=[{"field": "orderId", "message": "invoiced by 6b04"}],
        headers={"X-Request-ID": "req-1"},
    )
    with pytest.raises(exception) as raised:
        kind(Recorder(answer), max_retries=0).call(lambda c: c.invoices.create(order_id=ID))
    error = raised.value
    assert type(error) is exception
    assert (error.status, error.message, error.request_id) == (
        status,
        "Order is already fully invoiced",
        "req-1",
    )
    assert [(e.field, e.message) for e in error.errors] == [("orderId", "invoiced by 6b04")]
    assert str(error) == f"{status}: Order is already fully invoiced (orderId: invoiced by 6b04)"


def test_an_error_without_a_json_body_still_raises_with_the_status(kind):
    answer = httpx.Response(502, content=b"<html>Bad Gateway</html>")
    with pytest.raises(ServerError) as raised:
        kind(Recorder(answer), max_retries=0).call(lambda c: c.invoices.get(ID))
    assert raised.value.status == 502 and raised.value.message == "Bad Gateway"


def test_retry_after_as_an_http_date():
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert _core.retry_after(response) == 0.0  # in the past: retry now
    assert _core.retry_after(httpx.Response(429, headers={"Retry-After": "soon"})) is None


# Requests ---------------------------------------------------------------------------------------


def test_the_token_and_json_are_sent_and_ids_cannot_leave_their_path_segment(kind):
    recorder = Recorder(ok(endpoint(1)))
    kind(recorder).call(lambda c: c.webhooks.get("../tokens?x=1"))
    request = recorder.requests[0]
    assert request.headers["authorization"] == "Bearer inv_test"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("invoicing-client/")
    assert request.url.raw_path == b"/webhooks/%2E%2E%2Ftokens%3Fx%3D1"


def test_lists_follow_next_cursor_lazily(kind):
    pages = {
        None: ([endpoint(1), endpoint(2)], "c2"),
        "c2": ([endpoint(3)], "c3"),
        "c3": ([], None),
    }
    seen: list[httpx.URL] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        items, cursor = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={"success": True, "data": items, "nextCursor": cursor})

    if kind is Sync:
        client = Client(BASE, "t", http_client=httpx.Client(transport=httpx.MockTransport(service)))
        listing = client.webhooks.list(limit=2)
        assert seen == []  # nothing fetched before the first item is asked for
        first = next(listing)
        assert len(seen) == 1 and first.id == endpoint(1)["id"]
        rest = list(listing)
    else:

        async def run() -> list[Any]:
            http = httpx.AsyncClient(transport=httpx.MockTransport(service))
            async with AsyncClient(BASE, "t", http_client=http) as client:
                return [item async for item in client.webhooks.list(limit=2)]

        items = asyncio.run(run())
        first, rest = items[0], items[1:]
    assert [e.id for e in [first, *rest]] == [endpoint(n)["id"] for n in (1, 2, 3)]
    assert [u.params.get("cursor") for u in seen] == [None, "c2", "c3"]
    assert {u.params["limit"] for u in seen} == {"2"}


def test_list_filters_are_sent_in_the_services_spelling(kind):
    recorder = Recorder(httpx.Response(200, json={"success": True, "data": [], "nextCursor": None}))
    kind(recorder).call(
        lambda c: c.invoices.list(order_id=ID, status="open", overdue=True, number=None)
    )
    assert dict(recorder.requests[0].url.params) == {
        "orderId": ID,
        "status": "open",
        "overdue": "true",
        "limit": "100",
    }


def test_a_client_given_its_http_client_leaves_it_open():
    http = httpx.Client(transport=httpx.MockTransport(Recorder(ok(endpoint(1)))))
    with Client(BASE, "t", http_client=http) as client:
        client.webhooks.get(ID)
    assert not http.is_closed
    http.close()
    with Client(BASE, "t") as own:
        pass
    assert own._transport.http.is_closed
