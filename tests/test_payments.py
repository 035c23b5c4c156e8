"""POST /invoices/{id}/payments: the payment object, what the invoice owes after it (paidTotal,
amountDue, status, overdue), every refusal, and Idempotency-Key."""

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from invoicing.db.query import Query
from tests.conftest import run
from tests.helpers import create_invoice, create_order, line

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PAYMENT_FIELDS = {
    "id",
    "_id",
    "invoice",
    "amount",
    "currency",
    "paidAt",
    "method",
    "reference",
    "createdBy",
    "createdAt",
}
GONE = "693738682fa9114d9af87d29"


def utc_today() -> date:
    return datetime.now(UTC).date()


def invoice_of(api, **order) -> dict:
    """An invoice of 100.00 (no tax) unless the order says otherwise."""
    order.setdefault("lineItems", [line("Service", 1, "100.00")])
    return create_invoice(api, create_order(api, **order)["id"])


def pay(api, invoice_id: str, **body):
    return api.post(f"/invoices/{invoice_id}/payments", json=body)


def paid(api, invoice_id: str, **body) -> dict:
    response = pay(api, invoice_id, **body)
    assert response.status_code == 201, response.text
    return response.json()["data"]


def get_invoice(api, invoice_id: str) -> dict:
    response = api.get(f"/invoices/{invoice_id}")
    assert response.status_code == 200
    return response.json()["data"]


def set_due_date(client, invoice_id: str, due: date) -> None:
    async def work(database):
        async with database.write() as connection:
            await connection.execute(
                Query("UPDATE invoices SET due_date = $2 WHERE id = $1"), invoice_id, due
            )

    run(client, work)


def test_a_payment_is_recorded(api):
    invoice = invoice_of(api)
    response = pay(
        api,
        invoice["id"],
        amount=40.5,
        paidAt=utc_today().isoformat(),
        method="bank_transfer",
        reference="SEPA 4711",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Payment recorded"
    payment = body["data"]
    assert payment.keys() == PAYMENT_FIELDS
    assert payment["id"] == payment["_id"]
    assert re.fullmatch(r"[0-9a-f]{24}", payment["id"])
    assert payment["invoice"] == invoice["id"]
    assert payment["amount"] == 40.5
    assert payment["currency"] == "USD"
    assert payment["paidAt"] == utc_today().isoformat()
    assert payment["method"] == "bank_transfer"
    assert payment["reference"] == "SEPA 4711"
    assert payment["createdBy"] == {"id": api.token_id, "name": "Sam Nabahani", "type": "admin"}
    assert TIME.fullmatch(payment["createdAt"])


def test_optional_fields_and_the_default_date(api):
    invoice = invoice_of(api)
    payment = paid(api, invoice["id"], amount=1)
    assert payment["paidAt"] == utc_today().isoformat()
    assert payment["method"] is None and payment["reference"] is None
    assert payment["amount"] == 1


def test_a_past_date_is_kept(api):
    invoice = invoice_of(api)
    payment = paid(api, invoice["id"], amount=1, paidAt="2020-02-29")
    assert payment["paidAt"] == "2020-02-29"
    assert get_invoice(api, invoice["id"])["payments"][0]["paidAt"] == "2020-02-29"


def test_the_invoice_follows_open_partially_paid_paid(api):
    invoice = invoice_of(api, lineItems=[line("Widget", 30, "19.99", "8.25")])
    assert (invoice["status"], invoice["paidTotal"], invoice["amountDue"]) == ("open", 0, 649.18)
    assert invoice["payments"] == [] and invoice["creditedTotal"] == 0
    first = paid(api, invoice["id"], amount=100.18)
    after = get_invoice(api, invoice["id"])
    assert (after["status"], after["paidTotal"], after["amountDue"]) == (
        "partially_paid",
        100.18,
        549,
    )
    second = paid(api, invoice["id"], amount="549.00")
    after = get_invoice(api, invoice["id"])
    assert (after["status"], after["paidTotal"], after["amountDue"]) == ("paid", 649.18, 0)
    assert after["payments"] == [first, second]  # oldest first, as the POSTs returned them
    assert after["updatedAt"] >= invoice["updatedAt"]
    # The financial content is untouched.
    for key in ("total", "subtotal", "taxes", "taxTotal", "lineItems", "number", "entityId"):
        assert after[key] == invoice[key], key


def test_payments_are_listed_oldest_first_in_the_list_too(api):
    invoice = invoice_of(api)
    payments = [paid(api, invoice["id"], amount=amount) for amount in (10, 20, "30.5")]
    assert [p["amount"] for p in get_invoice(api, invoice["id"])["payments"]] == [10, 20, 30.5]
    [listed] = api.get("/invoices").json()["data"]
    assert listed["payments"] == payments
    assert (listed["paidTotal"], listed["amountDue"], listed["status"]) == (
        60.5,
        39.5,
        "partially_paid",
    )


def test_exact_sums_without_float_drift(api):
    invoice = invoice_of(api, lineItems=[line("Thing", 1, "0.3")])
    for _ in range(3):
        paid(api, invoice["id"], amount=0.1)
    after = get_invoice(api, invoice["id"])
    assert (after["paidTotal"], after["amountDue"], after["status"]) == (0.3, 0, "paid")


def test_more_than_is_due_is_refused(api):
    invoice = invoice_of(api)
    paid(api, invoice["id"], amount=60)
    response = pay(api, invoice["id"], amount=40.01)
    assert response.status_code == 409
    assert response.json()["success"] is False
    assert response.json()["message"] == "Payment exceeds the amount due"
    after = get_invoice(api, invoice["id"])
    assert (after["paidTotal"], after["amountDue"], len(after["payments"])) == (60, 40, 1)
    paid(api, invoice["id"], amount=40)  # exactly what is due is fine


def test_nothing_left_to_pay(api):
    invoice = invoice_of(api)
    paid(api, invoice["id"], amount=100)
    response = pay(api, invoice["id"], amount=0.01)
    assert response.status_code == 409
    assert response.json()["message"] == "Invoice has nothing left to pay"
    assert len(get_invoice(api, invoice["id"])["payments"]) == 1


def test_an_invoice_of_nothing_has_nothing_to_pay(api):
    invoice = invoice_of(api, lineItems=[line("Free sample", 1, 0)])
    assert invoice["amountDue"] == 0
    response = pay(api, invoice["id"], amount=1)
    assert response.status_code == 409
    assert response.json()["message"] == "Invoice has nothing left to pay"


def test_a_credited_invoice_has_nothing_to_pay(api):
    invoice = invoice_of(api)
    assert (
        api.post(
            f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Cancelled"}
        ).status_code
        == 201
    )
    response = pay(api, invoice["id"], amount=1)
    assert response.status_code == 409
    assert response.json()["message"] == "Invoice has nothing left to pay"


def test_what_is_due_after_a_partial_credit(api):
    invoice = invoice_of(api, lineItems=[line("Service", 4, "25")])
    [item] = invoice["lineItems"]
    credit = api.post(
        f"/invoices/{invoice['id']}/credit-notes",
        json={"reason": "One less", "lineItems": [{"invoiceLineId": item["id"], "quantity": 1}]},
    )
    assert credit.status_code == 201
    assert pay(api, invoice["id"], amount=75.01).json()["message"] == (
        "Payment exceeds the amount due"
    )
    paid(api, invoice["id"], amount=75)
    after = get_invoice(api, invoice["id"])
    assert (after["paidTotal"], after["creditedTotal"], after["amountDue"], after["status"]) == (
        75,
        25,
        0,
        "paid",
    )


@pytest.mark.parametrize(
    ("currency", "price", "amount", "message"),
    [
        ("EUR", "100", 0.001, "amount must have at most 2 decimals for EUR"),
        ("EUR", "100", "10.005", "amount must have at most 2 decimals for EUR"),
        ("JPY", "1000", 1.5, "amount must have at most 0 decimals for JPY"),
        ("KWD", "10", "1.0001", "amount must have at most 3 decimals for KWD"),
    ],
)
def test_more_decimals_than_the_currency_has(api, currency, price, amount, message):
    invoice = invoice_of(api, currency=currency, lineItems=[line("Service", 1, price)])
    response = pay(api, invoice["id"], amount=amount)
    assert response.status_code == 400
    assert response.json()["message"] == f"Validation error: {message}"
    assert response.json()["errors"][0]["field"] == "amount"
    assert get_invoice(api, invoice["id"])["paidTotal"] == 0


@pytest.mark.parametrize(
    ("currency", "price", "amount", "expected"),
    [("JPY", "1000", 999, 999), ("KWD", "10", "1.005", 1.005), ("EUR", "100", "0.10", 0.1)],
)
def test_the_currencys_minor_unit_is_fine(api, currency, price, amount, expected):
    invoice = invoice_of(api, currency=currency, lineItems=[line("Service", 1, price)])
    payment = paid(api, invoice["id"], amount=amount)
    assert (payment["amount"], payment["currency"]) == (expected, currency)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "amount"),
        ({"amount": None}, "amount"),
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": 1, "paidAt": "yesterday"}, "paidAt"),
        ({"amount": 1, "paidAt": "2026-02-30"}, "paidAt"),
        ({"amount": 1, "paidAt": 1767225600}, "paidAt"),  # a Unix time is not a date
        ({"amount": 1, "method": "m" * 41}, "method"),
        ({"amount": 1, "reference": "r" * 201}, "reference"),
        ({"amount": 1, "method": 5}, "method"),
        ({"amount": 1, "note": "x"}, "note"),
    ],
)
def test_bad_fields(api, body, field):
    invoice = invoice_of(api)
    response = pay(api, invoice["id"], **body)
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False
    assert response.json()["message"].startswith(f"Validation error: {field} ")
    assert response.json()["errors"][0]["field"] == field
    assert get_invoice(api, invoice["id"])["payments"] == []


def test_length_limits_name_the_field_exactly(api):
    invoice = invoice_of(api)
    too_long = pay(api, invoice["id"], amount=1, method="m" * 41)
    assert too_long.json()["message"] == "Validation error: method must be at most 40 characters"
    too_long = pay(api, invoice["id"], amount=1, reference="r" * 201)
    assert too_long.json()["message"] == (
        "Validation error: reference must be at most 200 characters"
    )
    payment = paid(api, invoice["id"], amount=1, method="m" * 40, reference="r" * 200)
    assert (payment["method"], payment["reference"]) == ("m" * 40, "r" * 200)


def test_a_date_in_the_future_is_refused(api):
    invoice = invoice_of(api)
    tomorrow = (utc_today() + timedelta(days=1)).isoformat()
    response = pay(api, invoice["id"], amount=1, paidAt=tomorrow)
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"Validation error: paidAt must not be in the future (today is {utc_today()})"
    )
    assert response.json()["errors"] == [
        {"field": "paidAt", "message": f"must not be in the future (today is {utc_today()})"}
    ]
    assert get_invoice(api, invoice["id"])["payments"] == []


def test_body_that_is_not_an_object(api):
    invoice = invoice_of(api)
    for body in ([], "x", 5):
        response = api.post(f"/invoices/{invoice['id']}/payments", json=body)
        assert response.status_code == 400
        assert response.json()["message"] == "Validation error: request body must be a JSON object"


@pytest.mark.parametrize("invoice_id", [GONE, "not-an-id", "' OR 1=1 --"])
def test_unknown_or_malformed_invoice(api, invoice_id):
    response = pay(api, invoice_id, amount=1)
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Invoice not found"}


def test_without_a_token(client, api):
    invoice = invoice_of(api)
    response = client.post(f"/invoices/{invoice['id']}/payments", json={"amount": 1})
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Invalid or missing access token"}
    assert client.post(f"/invoices/{GONE}/payments", json={"amount": 1}).status_code == 401
    assert get_invoice(api, invoice["id"])["payments"] == []


def test_idempotency_key_replays_the_first_payment(api):
    invoice = invoice_of(api)
    headers = {"Idempotency-Key": "pay-1"}
    body = {"amount": 30, "method": "card"}
    first = api.post(f"/invoices/{invoice['id']}/payments", json=body, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = api.post(f"/invoices/{invoice['id']}/payments", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    after = get_invoice(api, invoice["id"])
    assert after["payments"] == [first.json()["data"]]
    assert (after["paidTotal"], after["amountDue"]) == (30, 70)
    other = api.post(
        f"/invoices/{invoice['id']}/payments",
        json={"amount": 31, "method": "card"},
        headers=headers,
    )
    assert other.status_code == 409
    assert other.json() == {
        "success": False,
        "message": "Idempotency key was already used with a different request",
    }
    assert len(get_invoice(api, invoice["id"])["payments"]) == 1


def test_a_failed_payment_may_be_retried_with_its_key(api):
    invoice = invoice_of(api)
    headers = {"Idempotency-Key": "pay-2"}
    paid(api, invoice["id"], amount=100)
    refused = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": 5}, headers=headers)
    assert refused.status_code == 409
    other = invoice_of(api)
    # A key whose request failed is not kept: had it been, the same key for another invoice (a
    # different request) would get 409 "already used with a different request".
    retried = api.post(f"/invoices/{other['id']}/payments", json={"amount": 5}, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers


def test_overdue_only_when_something_is_due_after_the_due_date(api, client):
    invoice = invoice_of(api)
    assert invoice["overdue"] is False
    set_due_date(client, invoice["id"], utc_today())
    assert get_invoice(api, invoice["id"])["overdue"] is False  # due today is not late
    set_due_date(client, invoice["id"], utc_today() - timedelta(days=1))
    late = get_invoice(api, invoice["id"])
    assert (late["overdue"], late["dueDate"]) == (True, str(utc_today() - timedelta(days=1)))
    assert [i["id"] for i in api.get("/invoices", params={"overdue": "true"}).json()["data"]] == [
        invoice["id"]
    ]
    paid(api, invoice["id"], amount=99.99)
    assert get_invoice(api, invoice["id"])["overdue"] is True  # 0.01 still due
    paid(api, invoice["id"], amount=0.01)
    settled = get_invoice(api, invoice["id"])
    assert (settled["overdue"], settled["status"], settled["amountDue"]) == (False, "paid", 0)
    assert api.get("/invoices", params={"overdue": "true"}).json()["data"] == []


def test_a_credited_invoice_is_not_overdue(api, client):
    invoice = invoice_of(api)
    set_due_date(client, invoice["id"], utc_today() - timedelta(days=10))
    assert get_invoice(api, invoice["id"])["overdue"] is True
    api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Cancelled"})
    assert get_invoice(api, invoice["id"])["overdue"] is False
    assert api.get("/invoices", params={"overdue": "true"}).json()["data"] == []


def test_the_invoice_list_filters_by_payment_status(api):
    unpaid, part, whole = invoice_of(api), invoice_of(api), invoice_of(api)
    paid(api, part["id"], amount=1)
    paid(api, whole["id"], amount=100)
    by_status = {
        status: [i["id"] for i in api.get("/invoices", params={"status": status}).json()["data"]]
        for status in ("open", "partially_paid", "paid", "credited")
    }
    assert by_status == {
        "open": [unpaid["id"]],
        "partially_paid": [part["id"]],
        "paid": [whole["id"]],
        "credited": [],
    }


def test_an_idempotency_key_of_256_characters_is_refused(api):
    invoice = invoice_of(api)
    response = api.post(
        f"/invoices/{invoice['id']}/payments",
        json={"amount": 1},
        headers={"Idempotency-Key": "k" * 256},
    )
    assert response.status_code == 400
    assert get_invoice(api, invoice["id"])["payments"] == []
    longest = api.post(
        f"/invoices/{invoice['id']}/payments",
        json={"amount": 1},
        headers={"Idempotency-Key": "k" * 255},
    )
    assert longest.status_code == 201


def test_concurrent_payments_never_exceed_what_is_due(api):
    invoice = invoice_of(api)
    results: list[int] = []

    def pay_60() -> None:
        results.append(pay(api, invoice["id"], amount=60).status_code)

    threads = [threading.Thread(target=pay_60) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409, 409]
    after = get_invoice(api, invoice["id"])
    assert (after["paidTotal"], after["amountDue"], len(after["payments"])) == (60, 40, 1)


def test_payments_are_never_edited_or_deleted(api):
    invoice = create_invoice(api, create_order(api)["id"])
    payment = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": 10}).json()["data"]
    path = f"/invoices/{invoice['id']}/payments"
    for method in ("PUT", "PATCH", "DELETE"):
        assert api.request(method, path, json={"amount": 1}).status_code == 405
        assert api.request(method, f"{path}/{payment['id']}", json={}).status_code == 404
    after = api.get(f"/invoices/{invoice['id']}").json()["data"]
    assert [p["id"] for p in after["payments"]] == [payment["id"]] and after["paidTotal"] == 10
