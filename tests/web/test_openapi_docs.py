"""The OpenAPI document is worth reading: every operation summarized, described and tagged, every
field described, and every error response showing the exact messages the service answers there,
which the real server is held to below."""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.core.errors import (
    ADMIN_REQUIRED,
    BODY_TOO_LARGE,
    INVALID_TOKEN,
    NOT_JSON,
    AppError,
)
from invoicing.invoices.service import INCOMPLETE_FOR_EINVOICE
from invoicing.webhooks import service as webhooks
from tests.conftest import Api, create_token
from tests.helpers import SELLER, WIDGET, create_invoice, create_order, line, order_body

METHODS = ("get", "put", "post", "patch", "delete")
UNKNOWN_ID = "0" * 24
# Statuses the tests cannot provoke at will: a body that never arrives (408), a busy renderer
# (429, 503, 504), a failing mail server (502), anything unexpected (500).
UNPROVOKED = {"408", "429", "500", "502", "503", "504"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The document as the app builds it: no database is needed for that."""
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"
    schema: dict[str, Any] = create_app(Settings(database_url=url)).openapi()
    return schema


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def messages(document: dict[str, Any], method: str, path: str, status: int | str) -> set[str]:
    response = document["paths"][path][method]["responses"].get(str(status), {})
    examples = response.get("content", {}).get("application/json", {}).get("examples", {})
    return {example["value"]["message"] for example in examples.values()}


def test_every_operation_has_a_summary_a_description_and_declared_tags(document):
    declared = {tag["name"] for tag in document["tags"]}
    used = set()
    for method, path, operation in operations(document):
        where = f"{method.upper()} {path}"
        assert operation.get("summary", "").strip(), where
        assert len(operation["summary"]) <= 80, where
        assert len(operation.get("description", "").strip()) >= 40, where
        assert operation.get("tags"), where
        assert set(operation["tags"]) <= declared, where
        used.update(operation["tags"])
    assert used == declared
    assert all(tag["description"].strip() for tag in document["tags"])
    assert [tag["name"] for tag in document["tags"]] == [
        "orders",
        "invoices",
        "payments",
        "credit notes",
        "e-invoices",
        "seller",
        "tokens",
        "webhooks",
        "operations",
    ]


def test_the_console_stays_out_of_the_document(document):
    assert not [path for path in document["paths"] if path.startswith("/admin")]


def test_every_field_of_every_schema_is_described(document):
    undescribed = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, property_schema in schema.get("properties", {}).items()
        if not property_schema.get("description", "").strip()
    ]
    assert not undescribed


def test_every_error_response_shows_its_messages(document):
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            where = f"{method.upper()} {path} {status}"
            assert response["description"].strip(), where
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}, where
            examples = content["examples"]
            assert examples, where
            for example in examples.values():
                assert example["summary"].strip() and len(example["summary"]) <= 80, where
                assert set(example["value"]) == {"success", "message"}, where
                assert example["value"]["success"] is False, where
                assert isinstance(example["value"]["message"], str), where
                assert example["value"]["message"].strip(), where
                assert f"`{example['value']['message']}`" in response["description"], where


def test_who_may_call_is_documented(document):
    public = {"/", "/health", "/metrics"}
    for method, path, operation in operations(document):
        where = f"{method.upper()} {path}"
        if path in public:
            assert operation["security"] == [], where
            assert "401" not in operation["responses"], where
            continue
        assert messages(document, method, path, 401) == {INVALID_TOKEN}, where
        admin_only = path.startswith(("/tokens", "/webhooks")) or (method, path) == (
            "put",
            "/seller",
        )
        assert ("403" in operation["responses"]) is admin_only, where
        if admin_only:
            assert messages(document, method, path, 403) == {ADMIN_REQUIRED}, where
            assert "Admin token only." in operation["description"], where
        if "requestBody" in operation:
            assert messages(document, method, path, 413) == {BODY_TOO_LARGE}, where
            assert messages(document, method, path, 415) == {NOT_JSON}, where


def test_the_source_pages_are_documented_as_they_are(document):
    """POST /invoices and GET /invoices/{id}: the seed pages' messages and example."""
    create = document["paths"]["/invoices"]["post"]
    assert create["summary"] == "Create an invoice from an order"
    body = create["requestBody"]["content"]["application/json"]
    assert body["example"] == {"orderId": "69ab24db449866373d5e3e35"}
    assert document["components"]["schemas"]["InvoiceCreate"]["examples"] == [
        {"orderId": "69ab24db449866373d5e3e35"}
    ]
    assert {
        "Validation error: orderId is required",
        "Validation error: orderId must be a string",
        "Validation error: request body must be a JSON object",
        "Validation error: request body is not valid JSON",
    } <= messages(document, "post", "/invoices", 400)
    assert messages(document, "post", "/invoices", 404) == {"Order not found"}
    assert "Order is already fully invoiced" in messages(document, "post", "/invoices", 409)
    assert messages(document, "post", "/invoices", 500) == {
        "An error occurred while creating the invoice"
    }
    get = ("get", "/invoices/{invoice_id}")
    assert messages(document, *get, 404) == {"Invoice not found"}
    assert messages(document, *get, 500) == {"An error occurred while fetching the invoice"}
    orders = document["paths"]["/orders"]["post"]["requestBody"]["content"]["application/json"]
    assert orders["example"] == {
        "customer": {
            "name": "Acme GmbH",
            "email": "billing@acme.example",
            "address": "Main St 1, Berlin",
        },
        "currency": "USD",
        "lineItems": [
            {"name": "Widget", "sku": "W-1", "quantity": 30, "unitPrice": 19.99, "taxRate": 8.25}
        ],
        "metaFields": [],
    }


# The real server: what it answers is among what the document says, and what the document says
# for the statuses it can be made to answer is what it answers.

_ID = re.compile(r"[0-9a-f]{24}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _shape(message: str) -> str:
    """A message with its ids and dates left out (an example names ids of its own)."""
    return _DATE.sub("<date>", _ID.sub("<id>", message))


class Probe:
    """Sends requests; checks each answer against the operation's documented messages, and
    keeps what was answered to check that every documented message was."""

    def __init__(self, api: Api, document: dict[str, Any]) -> None:
        self.api = api
        self.document = document
        self.answered: set[tuple[str, str, str, str]] = set()

    def __call__(
        self, method: str, template: str, status: int, path: str | None = None, **kwargs: Any
    ) -> Any:
        response = self.api.request(method.upper(), path or template, **kwargs)
        assert response.status_code == status, (method, path or template, response.text)
        message = response.json()["message"]
        documented = messages(self.document, method, template, status)
        assert _shape(message) in {_shape(said) for said in documented}, (
            f"{method.upper()} {template} {status}: {message!r} is not documented"
        )
        self.answered.add((method, template, str(status), _shape(message)))
        return response

    def unanswered(self) -> list[str]:
        missing = []
        for method, path, operation in operations(self.document):
            for status in operation["responses"]:
                if int(status) < 400 or status in UNPROVOKED:
                    continue
                for said in messages(self.document, method, path, status):
                    if (method, path, status, _shape(said)) not in self.answered:
                        missing.append(f"{method.upper()} {path} {status} {said!r}")
        return missing


def test_a_real_answer_is_among_the_documented_ones(api, document):
    probe = Probe(api, document)
    probe("get", "/orders/{order_id}", 404, "/orders/unknown")
    response = probe("get", "/invoices/{invoice_id}", 404, "/invoices/" + UNKNOWN_ID)
    assert response.json()["message"] == "Invoice not found"
    probe("post", "/invoices", 400, json={})
    probe("post", "/invoices", 404, json={"orderId": "69ab24db449866373d5e3e35"})


def test_every_documented_message_is_what_the_server_answers(client, api, document):
    """Each error message the document shows (but those of UNPROVOKED statuses) is provoked
    here, on the operation and with the status it is documented for."""
    probe = Probe(api, document)
    _every_operation(client, probe, document)
    _orders(probe)
    _invoices(probe)
    _payments(probe)
    _credit_notes(probe)
    _einvoices(probe)
    _seller_and_tokens(client, probe)
    _webhooks(probe)
    missing = probe.unanswered()
    # The one message only a public address can provoke (the test server allows private
    # ones): the same check, with the setting off.
    private = "http://10.0.0.7/hook"
    with pytest.raises(AppError) as refused:
        webhooks.check_url(private, Settings(webhook_allow_private=False))
    for method, path in (("post", "/webhooks"), ("patch", "/webhooks/{endpoint_id}")):
        assert refused.value.message in messages(document, method, path, 400)
        missing.remove(f"{method.upper()} {path} 400 {refused.value.message!r}")
    # The 422 of INVOICING_REQUIRE_EINVOICE is tested in tests/einvoice/test_require_einvoice.py.
    missing.remove(f"POST /invoices 422 {INCOMPLETE_FOR_EINVOICE!r}")
    assert not missing, "\n".join(missing)


# A body each idempotent create parses (its resource need not exist).
VALID_BODIES = {
    "/orders": order_body(),
    "/invoices": {"orderId": UNKNOWN_ID},
    "/invoices/{invoice_id}/payments": {"amount": 1},
    "/invoices/{invoice_id}/credit-notes": {"reason": "Returned"},
}


def _every_operation(client: Any, probe: Probe, document: dict[str, Any]) -> None:
    """No token (401); a body that is not JSON, not an object, not sent as JSON (415) or too
    large (413); an Idempotency-Key too long: wherever documented."""
    json = {"content-type": "application/json"}
    for method, template, operation in operations(document):
        path = re.sub(r"\{[a-z_]+\}", UNKNOWN_ID, template)
        if "401" in operation["responses"]:
            response = client.request(method.upper(), path)
            assert response.status_code == 401
            assert response.json()["message"] in messages(document, method, template, 401)
            probe.answered.add((method, template, "401", response.json()["message"]))
        if "requestBody" in operation:
            probe(method, template, 400, path, content=b"{", headers=json)
            probe(method, template, 400, path, content=b"[]", headers=json)
            probe(
                method, template, 415, path, content=b"{}", headers={"content-type": "text/plain"}
            )
            probe(method, template, 413, path, content=b" " * (1024 * 1024 + 1))
        if any(p["name"] == "Idempotency-Key" for p in operation.get("parameters", [])):
            long_key = {"Idempotency-Key": "k" * 256}
            probe(method, template, 400, path, json=VALID_BODIES[template], headers=long_key)


def _orders(probe: Probe) -> None:
    post = lambda body, **kwargs: probe("post", "/orders", 400, json=body, **kwargs)  # noqa: E731
    post({})
    post({"customer": {"name": "Acme"}})
    post(order_body(lineItems=[WIDGET] * 501))
    post(order_body(lineItems=[line("A", 10**9, 10**11)]))
    post({"customer": {}, "lineItems": [WIDGET]})
    post(order_body(customer={"name": "Acme", "email": "not-an-email"}))
    post(order_body(currency="ABC"))
    post(order_body(lineItems=[]))
    post(order_body(lineItems=[line("A", 0, 1)]))
    post(order_body(lineItems=[line("A", 1, "1.23456")]))
    post(order_body(lineItems=[line("A", 1, 1, 0, taxCategory="S")]))
    post(order_body(lineItems=[line("A", 1, 1, 0, taxCategory="E")]))
    post(order_body(metaFields=[{"key": "po", "value": "1"}, {"key": "po", "value": "2"}]))
    probe("get", "/orders/{order_id}", 404, "/orders/nope")
    key = {"Idempotency-Key": "order-1"}
    probe.api.post("/orders", json=order_body(), headers=key)
    probe("post", "/orders", 409, json=order_body(currency="EUR"), headers=key)
    lists = [
        "limit=ten",
        "limit=0",
        "limit=101",
        "cursor=nope",
        "status=unknown",
    ]
    for query in lists:
        probe("get", "/orders", 400, f"/orders?{query}")


def _invoices(probe: Probe) -> None:
    order = create_order(probe.api)
    line_id = order["lineItems"][0]["id"]
    post = lambda body: probe("post", "/invoices", 400, json=body)  # noqa: E731
    post({})
    post({"orderId": 5})
    post({"orderId": order["id"], "lineItems": []})
    post({"orderId": order["id"], "lineItems": [{"lineItemId": line_id, "quantity": 0}]})
    post({"orderId": order["id"], "lineItems": [{"lineItemId": UNKNOWN_ID, "quantity": 1}]})
    post({"orderId": order["id"], "lineItems": [{"lineItemId": line_id, "quantity": 40}]})
    twice = [{"lineItemId": line_id, "quantity": 1}] * 2
    post({"orderId": order["id"], "lineItems": twice})
    post({"orderId": order["id"], "dueDate": "2099-01-01", "paymentTermsDays": 10})
    post({"orderId": order["id"], "dueDate": "2000-01-01"})
    post({"orderId": order["id"], "paymentTermsDays": 366})
    probe("post", "/invoices", 404, json={"orderId": UNKNOWN_ID})
    key = {"Idempotency-Key": "invoice-1"}
    invoice = probe.api.post("/invoices", json={"orderId": order["id"]}, headers=key).json()["data"]
    probe("post", "/invoices", 409, json={"orderId": order["id"]})
    probe("post", "/invoices", 409, json={"orderId": order["id"], "metaFields": []}, headers=key)
    for query in ("limit=ten", "limit=0", "limit=101", "cursor=nope", "status=unknown"):
        probe("get", "/invoices", 400, f"/invoices?{query}")
    probe("get", "/invoices", 400, "/invoices?number=" + "9" * 101)
    probe("get", "/invoices", 400, "/invoices?overdue=maybe")
    one = "/invoices/{invoice_id}"
    probe("get", one, 404, "/invoices/nope")
    patch = lambda body, path=f"/invoices/{invoice['id']}": probe(  # noqa: E731
        "patch", one, 400, path, json=body
    )
    _meta_fields(patch)
    probe("patch", one, 404, "/invoices/nope", json={"metaFields": []})
    probe("get", one + "/pdf", 404, "/invoices/nope/pdf")
    no_email = create_order(probe.api, customer={"name": "Walk-in"})
    silent = create_invoice(probe.api, no_email["id"])
    _send(probe, one + "/send", f"/invoices/{silent['id']}/send", "/invoices/nope/send")


def _meta_fields(patch: Any) -> None:
    patch({})
    patch({"metaFields": [{"key": "k" * 41, "value": ""}]})
    patch({"metaFields": [{"key": "po", "value": "1"}, {"key": "po", "value": "2"}]})
    patch({"metaFields": [{"key": str(n), "value": ""} for n in range(51)]})


def _send(probe: Probe, template: str, path: str, unknown: str) -> None:
    probe("post", template, 400, path, json={})  # the customer has no email address
    for to in ("nope", "a@shop.example, b@shop.example", "x" * 321):
        probe("post", template, 400, path, json={"to": to})
    probe("post", template, 404, unknown, json={})


def _payments(probe: Probe) -> None:
    order = create_order(probe.api)
    invoice = create_invoice(probe.api, order["id"])
    template = "/invoices/{invoice_id}/payments"
    path = f"/invoices/{invoice['id']}/payments"
    for body in (
        {},
        {"amount": 0},
        {"amount": "1.234"},
        {"amount": 1, "paidAt": "2999-01-01"},
        {"amount": 1, "method": "m" * 41},
    ):
        probe("post", template, 400, path, json=body)
    probe("post", template, 404, "/invoices/nope/payments", json={"amount": 1})
    probe("post", template, 409, path, json={"amount": 100000})
    key = {"Idempotency-Key": "payment-1"}
    probe.api.post(path, json={"amount": invoice["total"]}, headers=key)
    probe("post", template, 409, path, json={"amount": 1})
    probe("post", template, 409, path, json={"amount": 2}, headers=key)


def _credit_notes(probe: Probe) -> None:
    order = create_order(probe.api, lineItems=[line("Widget", 2, "19.99", 8.25)])
    invoice = create_invoice(probe.api, order["id"])
    line_id = invoice["lineItems"][0]["id"]
    template = "/invoices/{invoice_id}/credit-notes"
    path = f"/invoices/{invoice['id']}/credit-notes"
    reason = "Returned"
    for body in (
        {},
        {"reason": "r" * 501},
        {"reason": "  "},
        {"reason": reason, "lineItems": []},
        {"reason": reason, "lineItems": [{"invoiceLineId": UNKNOWN_ID, "quantity": 1}]},
        {"reason": reason, "lineItems": [{"invoiceLineId": line_id, "quantity": 0}]},
        {"reason": reason, "lineItems": [{"invoiceLineId": line_id, "quantity": 3}]},
        {"reason": reason, "lineItems": [{"invoiceLineId": line_id, "quantity": 1}] * 2},
    ):
        probe("post", template, 400, path, json=body)
    probe("post", template, 404, "/invoices/nope/credit-notes", json={"reason": reason})
    key = {"Idempotency-Key": "credit-note-1"}
    note = probe.api.post(path, json={"reason": reason}, headers=key).json()["data"]
    probe("post", template, 409, path, json={"reason": reason})
    probe("post", template, 409, path, json={"reason": "Other"}, headers=key)
    one = "/credit-notes/{credit_note_id}"
    probe("get", one, 404, "/credit-notes/nope")
    for query in ("limit=ten", "limit=0", "limit=101", "cursor=nope"):
        probe("get", "/credit-notes", 400, f"/credit-notes?{query}")
    patch = lambda body, path=f"/credit-notes/{note['id']}": probe(  # noqa: E731
        "patch", one, 400, path, json=body
    )
    _meta_fields(patch)
    probe("patch", one, 404, "/credit-notes/nope", json={"metaFields": []})
    probe("get", one + "/pdf", 404, "/credit-notes/nope/pdf")
    no_email = create_order(probe.api, customer={"name": "Walk-in"})
    silent = create_invoice(probe.api, no_email["id"])
    silent_note = probe.api.post(
        f"/invoices/{silent['id']}/credit-notes", json={"reason": reason}
    ).json()["data"]
    _send(probe, one + "/send", f"/credit-notes/{silent_note['id']}/send", "/credit-notes/x/send")


def _einvoices(probe: Probe) -> None:
    """Without a seller profile, nothing is complete enough for an e-invoice (422)."""
    order = create_order(probe.api)
    invoice = create_invoice(probe.api, order["id"])
    note = probe.api.post(
        f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"}
    ).json()["data"]
    for kind, resource, id in (
        ("invoices", "invoice_id", invoice["id"]),
        ("credit-notes", "credit_note_id", note["id"]),
    ):
        for syntax in ("ubl", "cii"):
            template = f"/{kind}/{{{resource}}}/{syntax}"
            probe("get", template, 422, f"/{kind}/{id}/{syntax}")
            probe("get", template, 404, f"/{kind}/nope/{syntax}")
            probe("get", template, 400, f"/{kind}/{id}/{syntax}?profile=unknown")


def _seller_and_tokens(client: Any, probe: Probe) -> None:
    for body in (
        {},
        {**SELLER, "address": {"country": "XX"}},
        {**SELLER, "vatId": "de1"},
        {**SELLER, "name": " "},
        {**SELLER, "bankAccount": {"iban": "DE89370400440532013001"}},
        {**SELLER, "bankAccount": {"iban": "DE893704004405320130"}},
        {**SELLER, "bankAccount": {"iban": "DE8937040044053201300A"}},
        {**SELLER, "bankAccount": {"iban": "XX89370400440532013000"}},
        {**SELLER, "bankAccount": {"iban": "DE89370400440532013000", "bic": "XX"}},
        {**SELLER, "paymentTermsDays": 366},
    ):
        probe("put", "/seller", 400, json=body)
    for body in ({}, {"name": "n" * 201}, {"name": "a\u001b"}, {"name": "a", "type": "x"}):
        probe("post", "/tokens", 400, json=body)
    probe("get", "/tokens", 400, "/tokens?include_revoked=maybe")
    probe("delete", "/tokens/{token_id}", 404, "/tokens/nope")
    _, secret = create_token(client, name="Shop", type="api")
    api_token = Probe(Api(client, secret, ""), probe.document)
    api_token("put", "/seller", 403, json=SELLER)
    api_token("post", "/tokens", 403, json={"name": "x"})
    api_token("get", "/tokens", 403)
    api_token("delete", "/tokens/{token_id}", 403, "/tokens/nope")
    for method, path, _ in operations(probe.document):
        if path.startswith("/webhooks"):
            concrete = re.sub(r"\{[a-z_]+\}", UNKNOWN_ID, path)
            api_token(method, path, 403, concrete, json={})
    probe.answered |= api_token.answered


def _webhooks(probe: Probe) -> None:
    url = "http://127.0.0.1:9/hook"
    refused_urls = [
        {"url": "ftp://shop.example/hook"},
        {"url": "https:///hook"},
        {"url": "https://shop.example:99999/hook"},
        {"url": "https://user:secret@shop.example/hook"},
        {"url": "https://shop.example/hook#part"},
    ]
    for body in (
        {},
        *refused_urls,
        {"url": url, "events": ["invoice.voided"]},
        {"url": url, "events": ["*", "invoice.created"]},
    ):
        probe("post", "/webhooks", 400, json=body)
    endpoint = probe.api.post("/webhooks", json={"url": url}).json()["data"]
    one = "/webhooks/{endpoint_id}"
    path = f"/webhooks/{endpoint['id']}"
    for body in (
        *refused_urls,
        {"events": ["invoice.voided"]},
        {"events": ["*", "invoice.created"]},
        {"url": None},
    ):
        probe("patch", one, 400, path, json=body)
    probe("patch", one, 404, "/webhooks/nope", json={})
    for query in ("limit=ten", "limit=0", "limit=101", "cursor=nope"):
        probe("get", "/webhooks", 400, f"/webhooks?{query}")
        probe("get", one + "/deliveries", 400, f"{path}/deliveries?{query}")
    probe("get", one, 404, "/webhooks/nope")
    probe("get", one + "/deliveries", 404, "/webhooks/nope/deliveries")
    probe("post", one + "/rotate-secret", 404, "/webhooks/nope/rotate-secret")
    probe("post", one + "/test", 404, "/webhooks/nope/test")
    retry = one + "/deliveries/{event_id}/retry"
    probe("post", retry, 404, f"/webhooks/nope/deliveries/{UNKNOWN_ID}/retry")
    probe("post", retry, 404, f"{path}/deliveries/{UNKNOWN_ID}/retry")
    probe("delete", one, 404, "/webhooks/nope")
