"""POST /invoices/{id}/credit-notes and /credit-notes: exact amounts (cumulative rounding within
the invoice), numbers, what the invoice and the order owe and hold after them, every refusal,
the list, PATCH, PDF, send and Idempotency-Key."""

import contextlib
import email
import email.policy
import io
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from invoicing.app import create_app
from invoicing.config import Settings
from tests.helpers import WIDGET, create_invoice, create_order, line

TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
GONE = "693738682fa9114d9af87d29"
NOTE_FIELDS = {
    "id",
    "_id",
    "invoice",
    "invoiceNumber",
    "invoiceIssueDate",
    "deliverTo",
    "order",
    "number",
    "entityId",
    "currency",
    "issueDate",
    "reason",
    "lineItems",
    "subtotal",
    "taxes",
    "taxTotal",
    "total",
    "seller",
    "customer",
    "metaFields",
    "mailsSent",
    "createdBy",
    "createdAt",
    "updatedAt",
}
NOTE_LINE_FIELDS = {
    "id",
    "invoiceLineId",
    "lineItemId",
    "name",
    "sku",
    "quantity",
    "unitCode",
    "unitPrice",
    "taxCategory",
    "taxRate",
    "amount",
}
EXEMPT = {"taxCategory": "E", "exemptionReason": "Education", "exemptionReasonCode": "VATEX-EU-132"}


def utc_today() -> str:
    return datetime.now(UTC).date().isoformat()


def credit(api, invoice_id: str, reason: str = "Returned", **body):
    return api.post(f"/invoices/{invoice_id}/credit-notes", json={"reason": reason, **body})


def credited(api, invoice_id: str, *quantities: tuple[str, object], **body) -> dict:
    """A new credit note; `quantities`: (invoice line id, quantity) pairs, none for everything."""
    if quantities:
        body["lineItems"] = [{"invoiceLineId": i, "quantity": q} for i, q in quantities]
    response = credit(api, invoice_id, **body)
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "Credit note created successfully"
    note: dict = response.json()["data"]
    return note


def get(api, path: str) -> dict:
    response = api.get(path)
    assert response.status_code == 200, response.text
    data: dict = response.json()["data"]
    return data


def amounts(document: dict) -> tuple:
    return (
        [li["amount"] for li in document["lineItems"]],
        document["subtotal"],
        document["taxes"],
        document["taxTotal"],
        document["total"],
    )


def mixed_invoice(api) -> tuple[dict, dict]:
    order = create_order(
        api,
        lineItems=[
            dict(WIDGET),
            line("Book", 3, "12.55", 7, sku="B-1"),
            line("Course", 1, "250", 0, unitCode="HUR", **EXEMPT),
            line("Gadget", 7, "3.3333", 19),
        ],
    )
    return order, create_invoice(api, order["id"])


def test_a_whole_invoice_credit_gives_back_exactly_its_amounts(api):
    order, invoice = mixed_invoice(api)
    response = credit(
        api, invoice["id"], reason="Order cancelled", metaFields=[{"key": "k", "value": "v"}]
    )
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["message"] == "Credit note created successfully"
    note = body["data"]
    assert note.keys() == NOTE_FIELDS
    assert note["id"] == note["_id"] and re.fullmatch(r"[0-9a-f]{24}", note["id"])
    assert (note["invoice"], note["invoiceNumber"], note["order"]) == (
        invoice["id"],
        invoice["number"],
        order["id"],
    )
    assert (note["number"], note["entityId"], note["currency"]) == ("CN-1", "1", "USD")
    assert (note["issueDate"], note["reason"]) == (utc_today(), "Order cancelled")
    assert note["metaFields"] == [{"key": "k", "value": "v"}] and note["mailsSent"] == []
    assert note["createdBy"] == {"id": api.token_id, "name": "Sam Nabahani", "type": "admin"}
    assert TIME.fullmatch(note["createdAt"]) and note["createdAt"] == note["updatedAt"]
    assert amounts(note) == amounts(invoice)
    assert note["taxes"] == [
        {
            "category": "E",
            "rate": 0,
            "taxable": 250,
            "amount": 0,
            "exemptionReason": "Education",
            "exemptionReasonCode": "VATEX-EU-132",
        },
        {"category": "S", "rate": 7, "taxable": 37.65, "amount": 2.64},
        {"category": "S", "rate": 8.25, "taxable": 599.7, "amount": 49.48},
        {"category": "S", "rate": 19, "taxable": 23.33, "amount": 4.43},
    ]
    for mine, theirs in zip(note["lineItems"], invoice["lineItems"], strict=True):
        assert (
            NOTE_LINE_FIELDS
            <= mine.keys()
            <= NOTE_LINE_FIELDS
            | {
                "exemptionReason",
                "exemptionReasonCode",
            }
        )
        assert re.fullmatch(r"[0-9a-f]{24}", mine["id"]) and mine["id"] != theirs["id"]
        assert mine["invoiceLineId"] == theirs["id"]
        assert mine["lineItemId"] == theirs["lineItemId"]
        same = ("name", "sku", "quantity", "unitCode", "unitPrice", "taxCategory", "taxRate")
        assert {k: mine[k] for k in same} == {k: theirs[k] for k in same}
    course = note["lineItems"][2]
    assert (course["unitCode"], course["exemptionReason"], course["exemptionReasonCode"]) == (
        "HUR",
        "Education",
        "VATEX-EU-132",
    )
    assert get(api, f"/credit-notes/{note['id']}") == note
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["creditedTotal"], after["amountDue"], after["status"], after["paidTotal"]) == (
        invoice["total"],
        0,
        "credited",
        0,
    )
    assert amounts(after) == amounts(invoice)  # the invoice itself never changes
    back = get(api, f"/orders/{order['id']}")
    assert [li["invoicedQuantity"] for li in back["lineItems"]] == [0, 0, 0, 0]
    assert back["status"] == "open"


def test_a_partial_credit_by_quantity(api):
    order = create_order(api)  # 30 widgets at 19.99, 8.25 %
    invoice = create_invoice(api, order["id"])
    [item] = invoice["lineItems"]
    note = credited(api, invoice["id"], (item["id"], 2))
    # 2/30 of 599.70 = 39.98; its tax 39.98/599.70 of 49.48 = 3.2986 -> 3.30
    assert [(li["quantity"], li["amount"]) for li in note["lineItems"]] == [(2, 39.98)]
    assert note["taxes"] == [{"category": "S", "rate": 8.25, "taxable": 39.98, "amount": 3.3}]
    assert (note["subtotal"], note["taxTotal"], note["total"]) == (39.98, 3.3, 43.28)
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["creditedTotal"], after["amountDue"], after["status"]) == (43.28, 605.9, "open")
    back = get(api, f"/orders/{order['id']}")
    assert (back["lineItems"][0]["invoicedQuantity"], back["status"]) == (28, "partially_invoiced")


def test_crediting_one_by_one_adds_up_to_the_invoice(api):
    # The invoice line is 3 x 0.3333 = 0.9999 -> 1.00 at 19 % (0.19). Credited one at a time:
    # round(1/3 x 1.00) = 0.33, round(2/3 x 1.00) - 0.33 = 0.34, 1.00 - 0.67 = 0.33; the tax
    # round(0.33/1.00 x 0.19) = 0.06, round(0.67 x 0.19) - 0.06 = 0.07, 0.19 - 0.13 = 0.06.
    order = create_order(api, lineItems=[line("Thing", 3, "0.3333", 19)])
    invoice = create_invoice(api, order["id"])
    assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (1, 0.19, 1.19)
    [item] = invoice["lineItems"]
    notes = [credited(api, invoice["id"], (item["id"], 1)) for _ in range(3)]
    assert [(n["subtotal"], n["taxTotal"], n["total"]) for n in notes] == [
        (0.33, 0.06, 0.39),
        (0.34, 0.07, 0.41),
        (0.33, 0.06, 0.39),
    ]
    assert [n["number"] for n in notes] == ["CN-1", "CN-2", "CN-3"]
    total = sum(Decimal(str(n["total"])) for n in notes)
    assert total == Decimal("1.19")
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["creditedTotal"], after["amountDue"], after["status"]) == (1.19, 0, "credited")
    again = credit(api, invoice["id"], lineItems=[{"invoiceLineId": item["id"], "quantity": 1}])
    assert again.status_code == 409
    assert again.json() == {"success": False, "message": "Invoice is already fully credited"}


def test_partial_then_the_rest_gives_back_exactly_the_invoice(api):
    _, invoice = mixed_invoice(api)
    widget, book, course, gadget = (li["id"] for li in invoice["lineItems"])
    first = credited(api, invoice["id"], (widget, 7), (gadget, 3))
    second = credited(api, invoice["id"], (book, 1), (gadget, "2.5"))
    # 7/30 of 599.70 = 139.93, its tax 139.93/599.70 of 49.48 = 11.55; 3/7 of 23.33 = 10.00,
    # its tax 10.00/23.33 of 4.43 = 1.90.
    assert first["taxes"] == [
        {"category": "S", "rate": 8.25, "taxable": 139.93, "amount": 11.55},
        {"category": "S", "rate": 19, "taxable": 10, "amount": 1.9},
    ]
    assert (first["subtotal"], first["taxTotal"], first["total"]) == (149.93, 13.45, 163.38)
    # Gadget: round(5.5/7 x 23.33) = 18.33 less the 10.00 credited, 8.33; its group's tax
    # round(18.33/23.33 x 4.43) = 3.48 less 1.90, 1.58. Book: 1/3 of 37.65 = 12.55, tax 0.88.
    assert [li["amount"] for li in second["lineItems"]] == [12.55, 8.33]
    assert second["taxes"] == [
        {"category": "S", "rate": 7, "taxable": 12.55, "amount": 0.88},
        {"category": "S", "rate": 19, "taxable": 8.33, "amount": 1.58},
    ]
    rest = credited(api, invoice["id"])  # everything not credited yet
    assert [(li["invoiceLineId"], li["quantity"]) for li in rest["lineItems"]] == [
        (widget, 23),
        (book, 2),
        (course, 1),
        (gadget, 1.5),
    ]
    for key in ("subtotal", "taxTotal", "total"):
        parts = sum(Decimal(str(n[key])) for n in (first, second, rest))
        assert parts == Decimal(str(invoice[key])), key
    for group in invoice["taxes"]:
        credited_group = [
            t for n in (first, second, rest) for t in n["taxes"] if t["rate"] == group["rate"]
        ]
        assert sum(Decimal(str(t["amount"])) for t in credited_group) == Decimal(
            str(group["amount"])
        )
        assert sum(Decimal(str(t["taxable"])) for t in credited_group) == Decimal(
            str(group["taxable"])
        )
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["status"], after["amountDue"], after["creditedTotal"]) == (
        "credited",
        0,
        invoice["total"],
    )
    response = credit(api, invoice["id"])
    assert response.status_code == 409
    assert response.json() == {"success": False, "message": "Invoice is already fully credited"}


def test_already_fully_credited(api):
    invoice = create_invoice(api, create_order(api)["id"])
    credited(api, invoice["id"])
    response = credit(api, invoice["id"])
    assert response.status_code == 409
    assert response.json() == {"success": False, "message": "Invoice is already fully credited"}
    [item] = invoice["lineItems"]
    with_lines = credit(
        api, invoice["id"], lineItems=[{"invoiceLineId": item["id"], "quantity": 1}]
    )
    assert with_lines.status_code == 409
    assert with_lines.json()["message"] == "Invoice is already fully credited"
    # A refused credit note consumes no number.
    other = create_invoice(api, create_order(api)["id"])
    assert credited(api, other["id"])["number"] == "CN-2"


def test_line_and_field_errors(api):
    order = create_order(api, lineItems=[dict(WIDGET), line("Book", 3, "12.55", 7)])
    invoice = create_invoice(api, order["id"])
    widget, book = (li["id"] for li in invoice["lineItems"])
    other = create_invoice(api, create_order(api)["id"])["lineItems"][0]["id"]
    order_line = order["lineItems"][0]["id"]
    cases = [
        (
            {"lineItems": [{"invoiceLineId": widget, "quantity": 0}]},
            "lineItems[0].quantity must be greater than 0",
        ),
        (
            {"lineItems": [{"invoiceLineId": widget, "quantity": -2}]},
            "lineItems[0].quantity must be greater than 0",
        ),
        (
            {"lineItems": [{"invoiceLineId": widget, "quantity": 31}]},
            f"lineItems[0].quantity 31 exceeds the 30 left to credit on invoice line {widget}",
        ),
        (
            {
                "lineItems": [
                    {"invoiceLineId": book, "quantity": 1},
                    {"invoiceLineId": widget, "quantity": "30.5"},
                ]
            },
            f"lineItems[1].quantity 30.5 exceeds the 30 left to credit on invoice line {widget}",
        ),
        (
            {"lineItems": [{"invoiceLineId": other, "quantity": 1}]},
            f"lineItems[0].invoiceLineId {other} is not a line of this invoice",
        ),
        (
            {"lineItems": [{"invoiceLineId": order_line, "quantity": 1}]},
            f"lineItems[0].invoiceLineId {order_line} is not a line of this invoice",
        ),
        (
            {
                "lineItems": [
                    {"invoiceLineId": book, "quantity": 1},
                    {"invoiceLineId": "nope", "quantity": 1},
                ]
            },
            "lineItems[1].invoiceLineId must be an id of 24 lowercase hex characters",
        ),
        ({"lineItems": [{"quantity": 1}]}, "lineItems[0].invoiceLineId is required"),
        ({"lineItems": [{"invoiceLineId": widget}]}, "lineItems[0].quantity is required"),
        ({"lineItems": []}, "lineItems must have at least 1 item(s)"),
    ]
    for body, message in cases:
        response = credit(api, invoice["id"], **body)
        assert response.status_code == 400, body
        assert response.json()["message"] == f"Validation error: {message}", body
        assert response.json()["errors"][0]["field"] == message.split(" ")[0]
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["creditedTotal"], after["status"]) == (0, "open")
    assert api.get("/credit-notes").json()["data"] == []


def test_what_is_left_to_credit_shrinks(api):
    invoice = create_invoice(api, create_order(api)["id"])
    [item] = invoice["lineItems"]
    credited(api, invoice["id"], (item["id"], 25))
    response = credit(api, invoice["id"], lineItems=[{"invoiceLineId": item["id"], "quantity": 6}])
    assert response.status_code == 400
    assert response.json()["message"] == (
        f"Validation error: lineItems[0].quantity 6 exceeds the 5 left to credit "
        f"on invoice line {item['id']}"
    )
    assert credited(api, invoice["id"], (item["id"], 5))["lineItems"][0]["quantity"] == 5


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "reason is required"),
        ({"reason": None}, "reason is required"),
        ({"reason": ""}, "reason is required"),
        ({"reason": 5}, "reason must be a string"),
        ({"reason": "r" * 501}, "reason must be at most 500 characters"),
        ({"reason": "ok", "total": 1}, "total is not a known field"),
        (
            {"reason": "ok", "metaFields": [{"key": "a", "value": "1"}] * 2},
            "metaFields keys must be unique",
        ),
    ],
)
def test_reason_and_body_errors(api, body, message):
    invoice = create_invoice(api, create_order(api)["id"])
    response = api.post(f"/invoices/{invoice['id']}/credit-notes", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == f"Validation error: {message}"
    assert response.json()["errors"][0]["field"] == message.split(" ")[0]
    assert get(api, f"/invoices/{invoice['id']}")["creditedTotal"] == 0


def test_a_reason_of_500_characters_is_fine(api):
    invoice = create_invoice(api, create_order(api)["id"])
    assert credited(api, invoice["id"], reason="r" * 500)["reason"] == "r" * 500


@pytest.mark.parametrize("invoice_id", [GONE, "not-an-id", "' OR 1=1 --"])
def test_unknown_or_malformed_invoice(api, invoice_id):
    response = credit(api, invoice_id)
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Invoice not found"}


def test_without_a_token(api, client):
    invoice = create_invoice(api, create_order(api)["id"])
    response = client.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "x"})
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Invalid or missing access token"}
    assert client.get("/credit-notes").status_code == 401
    assert client.get(f"/credit-notes/{GONE}").status_code == 401


def test_numbers_have_their_own_series(api):
    invoices = [create_invoice(api, create_order(api)["id"]) for _ in range(3)]
    assert [i["entityId"] for i in invoices] == ["1", "2", "3"]
    notes = [credited(api, invoices[i]["id"]) for i in (2, 0)]
    assert [(n["number"], n["entityId"]) for n in notes] == [("CN-1", "1"), ("CN-2", "2")]
    assert [n["invoiceNumber"] for n in notes] == ["3", "1"]
    fourth = create_invoice(api, create_order(api)["id"])
    assert (fourth["entityId"], fourth["number"]) == ("4", "4")  # credit notes took no number


@contextlib.contextmanager
def app(database_url: str, outbox: Path, **settings: object) -> Iterator[TestClient]:
    config = Settings(database_url=database_url, outbox_dir=outbox, smtp_url=None, **settings)
    with TestClient(create_app(config), raise_server_exceptions=False) as other:
        yield other


def test_the_number_format(api, database_url, outbox, monkeypatch):
    invoice = create_invoice(api, create_order(api)["id"])
    [item] = invoice["lineItems"]
    assert credited(api, invoice["id"], (item["id"], 1))["number"] == "CN-1"
    headers = {"accessToken": api.secret}
    monkeypatch.setattr("invoicing.credit_notes.service.today", lambda zone: date(2026, 3, 5))
    path = f"/invoices/{invoice['id']}/credit-notes"
    body = {"reason": "x", "lineItems": [{"invoiceLineId": item["id"], "quantity": 1}]}
    with app(database_url, outbox, credit_note_number_format="GS-{year}{month}-{seq:03}") as other:
        made = [other.post(path, json=body, headers=headers).json()["data"] for _ in range(2)]
    assert [(n["number"], n["entityId"], n["issueDate"]) for n in made] == [
        ("GS-202603-001", "2", "2026-03-05"),
        ("GS-202603-002", "3", "2026-03-05"),
    ]
    monkeypatch.setattr("invoicing.credit_notes.service.today", lambda zone: date(2026, 11, 5))
    with app(database_url, outbox, credit_note_number_format="GS-{yy}{month}-{seq}") as other:
        note = other.post(path, json=body, headers=headers).json()["data"]
    assert (note["number"], note["entityId"]) == ("GS-2611-1", "4")
    # Back to the default: its series continues.
    assert credited(api, invoice["id"], (item["id"], 1))["number"] == "CN-2"


def test_a_paid_invoice_credited_is_owed_money(api):
    invoice = create_invoice(api, create_order(api)["id"])
    assert (
        api.post(f"/invoices/{invoice['id']}/payments", json={"amount": 649.18}).status_code == 201
    )
    assert get(api, f"/invoices/{invoice['id']}")["status"] == "paid"
    [item] = invoice["lineItems"]
    credited(api, invoice["id"], (item["id"], 2))
    partly = get(api, f"/invoices/{invoice['id']}")
    assert (partly["status"], partly["amountDue"], partly["creditedTotal"]) == (
        "paid",
        -43.28,
        43.28,
    )
    credited(api, invoice["id"])
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["status"], after["paidTotal"], after["creditedTotal"], after["amountDue"]) == (
        "credited",
        649.18,
        649.18,
        -649.18,
    )
    assert after["overdue"] is False


def test_a_partly_paid_invoice_credited(api):
    invoice = create_invoice(api, create_order(api)["id"])
    assert api.post(f"/invoices/{invoice['id']}/payments", json={"amount": 100}).status_code == 201
    credited(api, invoice["id"])
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["status"], after["amountDue"]) == ("credited", -100)
    assert [
        i["id"] for i in api.get("/invoices", params={"status": "credited"}).json()["data"]
    ] == [invoice["id"]]


def test_an_invoice_of_nothing_credited_in_full_is_credited(api):
    invoice = create_invoice(api, create_order(api, lineItems=[line("Sample", 2, 0)])["id"])
    note = credited(api, invoice["id"])
    assert (note["total"], note["lineItems"][0]["quantity"]) == (0, 2)
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["status"], after["amountDue"]) == ("credited", 0)
    assert credit(api, invoice["id"]).json()["message"] == "Invoice is already fully credited"


def test_credited_quantities_go_back_to_the_order_and_are_invoiced_again(api):
    order = create_order(api, lineItems=[line("Thing", 3, "0.3333", 19), line("Plain", 2, 5)])
    thing, plain = (li["id"] for li in order["lineItems"])
    invoice = create_invoice(api, order["id"])
    assert api.post("/invoices", json={"orderId": order["id"]}).status_code == 409
    inv_thing, inv_plain = (li["id"] for li in invoice["lineItems"])
    # 2 of 3 things: round(2/3 x 1.00) = 0.67, tax round(0.67 x 0.19) = 0.13; and 1 plain.
    note = credited(api, invoice["id"], (inv_thing, 2), (inv_plain, 1))
    assert [li["amount"] for li in note["lineItems"]] == [0.67, 5]
    assert (note["subtotal"], note["taxTotal"], note["total"]) == (5.67, 0.13, 5.8)
    back = get(api, f"/orders/{order['id']}")
    assert [li["invoicedQuantity"] for li in back["lineItems"]] == [1, 1]
    assert back["status"] == "partially_invoiced"
    # Invoiced again one thing at a time: the order line has billed 0.33 net, so the next thing
    # bills round(2 x 0.3333) - 0.33 = 0.34 (alone it would be 0.33), its tax
    # round(0.67 x 0.19) - 0.06 = 0.07 (alone 0.06); the last one 1.00 - 0.67 = 0.33 and 0.06.
    again = create_invoice(api, order["id"], lineItems=[{"lineItemId": thing, "quantity": 1}])
    assert (again["lineItems"][0]["amount"], again["taxTotal"], again["total"]) == (
        0.34,
        0.07,
        0.41,
    )
    last = create_invoice(api, order["id"])
    assert [(li["lineItemId"], li["quantity"], li["amount"]) for li in last["lineItems"]] == [
        (thing, 1, 0.33),
        (plain, 1, 5),
    ]
    assert (last["taxes"], last["total"]) == (
        [
            {"category": "S", "rate": 19, "taxable": 0.33, "amount": 0.06},
            {"category": "Z", "rate": 0, "taxable": 5, "amount": 0},
        ],
        5.39,
    )
    full = get(api, f"/orders/{order['id']}")
    assert [li["invoicedQuantity"] for li in full["lineItems"]] == [3, 2]
    assert full["status"] == "invoiced"
    # Net over the order: invoices minus the credit note is exactly the order.
    net = sum(Decimal(str(d["total"])) for d in (invoice, again, last)) - Decimal(
        str(note["total"])
    )
    assert net == Decimal(str(order["total"])) == Decimal("11.19")


def test_crediting_everything_reopens_the_order(api):
    order = create_order(api)
    invoice = create_invoice(api, order["id"])
    credited(api, invoice["id"])
    back = get(api, f"/orders/{order['id']}")
    assert (back["status"], back["lineItems"][0]["invoicedQuantity"]) == ("open", 0)
    again = create_invoice(api, order["id"])
    assert (again["total"], again["entityId"]) == (649.18, "2")
    assert get(api, f"/orders/{order['id']}")["status"] == "invoiced"


def test_get_unknown_or_malformed_credit_note(api):
    for note_id in (GONE, "xyz", "1 OR 1=1"):
        response = api.get(f"/credit-notes/{note_id}")
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": "Credit note not found"}


def test_list_filters_newest_first_and_pages(api):
    first_order, second_order = create_order(api), create_order(api)
    first = create_invoice(api, first_order["id"])
    second = create_invoice(api, second_order["id"])
    [item] = first["lineItems"]
    mine = [credited(api, first["id"], (item["id"], 1)) for _ in range(3)]
    theirs = credited(api, second["id"])
    listed = api.get("/credit-notes").json()
    assert listed["success"] is True and listed["nextCursor"] is None
    assert [n["id"] for n in listed["data"]] == [theirs["id"], *(n["id"] for n in reversed(mine))]
    assert listed["data"][0] == theirs
    by_invoice = api.get("/credit-notes", params={"invoiceId": first["id"]}).json()["data"]
    assert [n["id"] for n in by_invoice] == [n["id"] for n in reversed(mine)]
    by_order = api.get("/credit-notes", params={"orderId": second_order["id"]}).json()["data"]
    assert [n["id"] for n in by_order] == [theirs["id"]]
    for params in ({"invoiceId": GONE}, {"orderId": GONE}, {"invoiceId": "nope"}):
        assert api.get("/credit-notes", params=params).json() == {
            "success": True,
            "data": [],
            "nextCursor": None,
        }
    both = {"invoiceId": first["id"], "orderId": second_order["id"]}
    assert api.get("/credit-notes", params=both).json()["data"] == []
    # Keyset pages of 2: every note once, newest first.
    seen, cursor = [], None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/credit-notes", params=params).json()
        pages += 1
        assert len(page["data"]) <= 2
        seen += [n["id"] for n in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 2
    assert seen == [n["id"] for n in listed["data"]]
    paged = api.get("/credit-notes", params={"limit": 2, "invoiceId": first["id"]}).json()
    assert [n["id"] for n in paged["data"]] == [mine[2]["id"], mine[1]["id"]]
    rest = api.get(
        "/credit-notes",
        params={"limit": 2, "invoiceId": first["id"], "cursor": paged["nextCursor"]},
    ).json()
    assert ([n["id"] for n in rest["data"]], rest["nextCursor"]) == ([mine[0]["id"]], None)
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "garbage"}):
        assert api.get("/credit-notes", params=bad).status_code == 400


def test_patch_replaces_meta_fields_only(api):
    invoice = create_invoice(api, create_order(api)["id"])
    note = credited(api, invoice["id"], metaFields=[{"key": "rma", "value": "1"}])
    response = api.patch(
        f"/credit-notes/{note['id']}", json={"metaFields": [{"key": "rma", "value": "RMA-9"}]}
    )
    assert response.status_code == 200
    patched = response.json()["data"]
    assert patched["metaFields"] == [{"key": "rma", "value": "RMA-9"}]
    assert patched["updatedAt"] >= note["updatedAt"]
    assert TIME.fullmatch(patched["updatedAt"])
    unchanged = {k: v for k, v in patched.items() if k not in ("metaFields", "updatedAt")}
    assert unchanged == {k: v for k, v in note.items() if k not in ("metaFields", "updatedAt")}
    assert get(api, f"/credit-notes/{note['id']}") == patched
    refused = api.patch(f"/credit-notes/{note['id']}", json={"metaFields": [], "total": 1})
    assert refused.status_code == 400
    refused = api.patch(
        f"/credit-notes/{note['id']}", json={"metaFields": [{"key": "", "value": ""}]}
    )
    assert refused.json()["message"] == "Validation error: metaFields[0].key is required"
    assert get(api, f"/credit-notes/{note['id']}")["metaFields"] == [
        {"key": "rma", "value": "RMA-9"}
    ]
    gone = api.patch(f"/credit-notes/{GONE}", json={"metaFields": []})
    assert gone.status_code == 404
    assert gone.json() == {"success": False, "message": "Credit note not found"}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf(api):
    invoice = create_invoice(api, create_order(api)["id"])
    note = credited(api, invoice["id"])
    response = api.get(f"/credit-notes/{note['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="credit-note-CN-1.pdf"' in response.headers["content-disposition"]
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "CN-1" in text and "$649.18" in text
    gone = api.get(f"/credit-notes/{GONE}/pdf")
    assert gone.status_code == 404
    assert gone.json() == {"success": False, "message": "Credit note not found"}


def _new_mails(outbox: Path, before: set[Path]) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in set(outbox.glob("*.eml")) - before
    ]


def test_send_records_the_mail(api, client):
    outbox: Path = client.app.state.settings.outbox_dir
    invoice = create_invoice(api, create_order(api)["id"])
    note = credited(api, invoice["id"])
    before = set(outbox.glob("*.eml"))
    response = api.post(f"/credit-notes/{note['id']}/send", json={"to": "someone@example.com"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Credit note sent to someone@example.com"
    [mail] = body["data"]["mailsSent"]
    assert mail["sentTo"] == "someone@example.com" and TIME.fullmatch(mail["sentAt"])
    assert body["data"]["updatedAt"] == mail["sentAt"]
    [message] = _new_mails(outbox, before)
    assert message["To"] == "someone@example.com"
    assert [a.get_filename() for a in message.iter_attachments()] == ["credit-note-CN-1.pdf"]
    assert get(api, f"/credit-notes/{note['id']}")["mailsSent"] == [mail]
    # {} sends to the customer's address; a second mail is appended.
    before = set(outbox.glob("*.eml"))
    response = api.post(f"/credit-notes/{note['id']}/send", json={})
    assert response.json()["message"] == "Credit note sent to billing@acme.example"
    [message] = _new_mails(outbox, before)
    assert message["To"] == "billing@acme.example"
    sent = get(api, f"/credit-notes/{note['id']}")["mailsSent"]
    assert [m["sentTo"] for m in sent] == ["someone@example.com", "billing@acme.example"]
    assert get(api, f"/invoices/{invoice['id']}")["mailsSent"] == []  # not the invoice's


def test_send_refusals(api, client):
    order = create_order(api, customer={"name": "No Mail Ltd"})
    note = credited(api, create_invoice(api, order["id"])["id"])
    response = api.post(f"/credit-notes/{note['id']}/send", json={})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Validation error: ")
    assert (
        api.post(f"/credit-notes/{note['id']}/send", json={"to": "not-an-email"}).status_code == 400
    )
    assert get(api, f"/credit-notes/{note['id']}")["mailsSent"] == []
    gone = api.post(f"/credit-notes/{GONE}/send", json={"to": "a@example.com"})
    assert gone.status_code == 404
    assert gone.json() == {"success": False, "message": "Credit note not found"}


def test_idempotency_key_replays_the_first_credit_note(api):
    invoice = create_invoice(api, create_order(api)["id"])
    [item] = invoice["lineItems"]
    body = {"reason": "Two back", "lineItems": [{"invoiceLineId": item["id"], "quantity": 2}]}
    headers = {"Idempotency-Key": "cn-1"}
    path = f"/invoices/{invoice['id']}/credit-notes"
    first = api.post(path, json=body, headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    again = api.post(path, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert [n["id"] for n in api.get("/credit-notes").json()["data"]] == [
        first.json()["data"]["id"]
    ]
    after = get(api, f"/invoices/{invoice['id']}")
    assert after["creditedTotal"] == 43.28
    assert get(api, f"/orders/{invoice['order']}")["lineItems"][0]["invoicedQuantity"] == 28
    different = api.post(path, json={**body, "reason": "Three back"}, headers=headers)
    assert different.status_code == 409
    assert different.json() == {
        "success": False,
        "message": "Idempotency key was already used with a different request",
    }
    assert credited(api, invoice["id"], (item["id"], 1))["number"] == "CN-2"


def put_seller(api, name: str, **profile) -> dict:
    body = {
        "name": name,
        "address": {
            "street": "Market St 400",
            "city": "Berlin",
            "postalCode": "10115",
            "country": "DE",
        },
        "vatId": "DE123456789",
        **profile,
    }
    response = api.request("PUT", "/seller", json=body)
    assert response.status_code == 200, response.text
    seller: dict = response.json()["data"]
    return seller


def test_seller_is_copied_at_creation_and_customer_from_the_invoice(api):
    first = put_seller(api, "Northwind Trading Co.")
    order = create_order(
        api,
        customer={
            "name": "Acme GmbH",
            "email": "billing@acme.example",
            "address": {
                "street": "Main St 1",
                "city": "Berlin",
                "postalCode": "10115",
                "country": "DE",
            },
            "vatId": "DE987654321",
        },
    )
    invoice = create_invoice(api, order["id"])
    assert invoice["seller"] == first
    second = put_seller(api, "Northwind Holding AG", paymentTermsDays=10)
    note = credited(api, invoice["id"])
    assert note["seller"] == second == get(api, "/seller")
    assert note["customer"] == invoice["customer"] == order["customer"]
    third = put_seller(api, "Someone Else Ltd")
    assert third["name"] == "Someone Else Ltd"
    assert get(api, f"/credit-notes/{note['id']}")["seller"] == second
    assert get(api, f"/invoices/{invoice['id']}")["seller"] == first


def test_concurrent_credits_never_exceed_the_invoice(api):
    invoice = create_invoice(api, create_order(api)["id"])
    results: list[int] = []

    def whole() -> None:
        results.append(credit(api, invoice["id"]).status_code)

    threads = [threading.Thread(target=whole) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409, 409, 409]
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["creditedTotal"], after["amountDue"]) == (649.18, 0)
    assert [n["number"] for n in api.get("/credit-notes").json()["data"]] == ["CN-1"]


def test_a_shortfall_is_never_negative_and_is_carried_to_the_next_invoice(api):
    # 7 x 0.004 = 0.028 -> 0.03. One at a time the invoices bill round(Q_after x 0.004) minus
    # what was billed: 0.00, 0.01, 0.00, 0.01, 0.00 (0.02 net for 5). Crediting the three of
    # 0.00 gives back nothing but 3 units: 2 units have billed 0.02 net, more than the
    # round(3 x 0.004) = 0.01 the next unit would bring the line to. That invoice bills 0 (not
    # -0.01), and the line carries the 0.01 until it catches up: the last 4 units bill
    # round(7 x 0.004) - 0.02 = 0.01, so the order's net is exactly its 0.03.
    order = create_order(api, lineItems=[line("Bolt", 7, "0.004")])
    bolt = order["lineItems"][0]["id"]
    singles = [
        create_invoice(api, order["id"], lineItems=[{"lineItemId": bolt, "quantity": 1}])
        for _ in range(5)
    ]
    assert [i["total"] for i in singles] == [0, 0.01, 0, 0.01, 0]
    for invoice in singles[::2]:
        assert credited(api, invoice["id"])["total"] == 0
    back = get(api, f"/orders/{order['id']}")
    assert (back["lineItems"][0]["invoicedQuantity"], back["status"]) == (2, "partially_invoiced")
    short = create_invoice(api, order["id"], lineItems=[{"lineItemId": bolt, "quantity": 1}])
    assert (short["lineItems"][0]["amount"], short["total"]) == (0, 0)
    last = create_invoice(api, order["id"])
    assert [(li["quantity"], li["amount"]) for li in last["lineItems"]] == [(4, 0.01)]
    assert last["total"] == 0.01
    invoiced = sum(Decimal(str(i["total"])) for i in (*singles, short, last))
    assert invoiced == Decimal(str(order["total"])) == Decimal("0.03")
    assert get(api, f"/orders/{order['id']}")["status"] == "invoiced"


def test_credits_round_to_the_currencys_unit(api):
    # JPY: 3 x 333.5 = 1000.5 -> 1001, tax 10 % = 100. One at a time: round(1/3 x 1001) = 334,
    # tax round(334/1001 x 100) = 33; then 667 - 334 = 333, tax 67 - 33 = 34; then 1001 - 667 =
    # 334, tax 100 - 67 = 33.
    order = create_order(api, currency="JPY", lineItems=[line("Tea", 3, "333.5", 10)])
    invoice = create_invoice(api, order["id"])
    assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (1001, 100, 1101)
    [item] = invoice["lineItems"]
    notes = [credited(api, invoice["id"], (item["id"], 1)) for _ in range(3)]
    assert [(n["subtotal"], n["taxTotal"], n["total"]) for n in notes] == [
        (334, 33, 367),
        (333, 34, 367),
        (334, 33, 367),
    ]
    assert all(n["currency"] == "JPY" for n in notes)
    after = get(api, f"/invoices/{invoice['id']}")
    assert (after["creditedTotal"], after["amountDue"], after["status"]) == (1101, 0, "credited")
