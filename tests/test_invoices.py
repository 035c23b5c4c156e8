"""POST/GET/PATCH /invoices: the contract's fields and every row of the error table."""

import re
from decimal import Decimal

import pytest

from tests.helpers import WIDGET, create_invoice, create_order, line

SOURCE_PAGE_FIELDS = {
    "id",
    "_id",
    "order",
    "entityId",
    "lineItems",
    "total",
    "createdBy",
    "metaFields",
    "mailsSent",
    "createdAt",
    "updatedAt",
}
TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def test_create_and_get_carry_every_field_of_both_source_pages(api):
    order = create_order(api)
    response = api.post("/invoices", json={"orderId": order["id"]})
    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Invoice created successfully"
    created = body["data"]
    assert created.keys() >= SOURCE_PAGE_FIELDS
    got = api.get(f"/invoices/{created['id']}")
    assert got.status_code == 200
    assert got.json() == {"success": True, "data": created}
    assert created["id"] == created["_id"]
    assert re.fullmatch(r"[0-9a-f]{24}", created["id"])
    assert created["order"] == order["id"]
    assert created["entityId"] == "1"
    assert created["createdBy"] == {"id": api.token_id, "name": "Sam Nabahani", "type": "admin"}
    assert TIME.fullmatch(created["createdAt"]) and created["createdAt"] == created["updatedAt"]
    assert created["mailsSent"] == [] and created["metaFields"] == []
    [item] = created["lineItems"]
    assert item["lineItemId"] == order["lineItems"][0]["id"]
    assert item["quantity"] == 30 and isinstance(item["quantity"], int)
    assert re.fullmatch(r"[0-9a-f]{24}", item["id"])
    assert (item["amount"], created["subtotal"], created["taxTotal"], created["total"]) == (
        599.7,
        599.7,
        49.48,
        649.18,
    )
    assert created["taxes"] == [{"category": "S", "rate": 8.25, "taxable": 599.7, "amount": 49.48}]


def test_numbers_are_sequential_strings(api):
    numbers = [create_invoice(api, create_order(api)["id"])["entityId"] for _ in range(3)]
    assert numbers == ["1", "2", "3"]


def test_a_failed_create_consumes_no_number(api):
    order = create_order(api)
    create_invoice(api, order["id"])
    assert api.post("/invoices", json={"orderId": order["id"]}).status_code == 409
    assert create_invoice(api, create_order(api)["id"])["entityId"] == "2"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Validation error: orderId is required"),
        ({"orderId": None}, "Validation error: orderId is required"),
        ({"orderId": ""}, "Validation error: orderId is required"),
        ({"orderId": 12}, "Validation error: orderId must be a string"),
        ({"orderId": ["a"]}, "Validation error: orderId must be a string"),
        ([], "Validation error: request body must be a JSON object"),
        ("x", "Validation error: request body must be a JSON object"),
    ],
)
def test_validation_errors(api, body, message):
    response = api.post("/invoices", json=body)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["message"] == message


@pytest.mark.parametrize("body", [b"{nope", b'{"orderId": "6b02"', b"", b'{"orderId": 1,}'])
def test_body_that_is_not_json_at_all(api, body):
    response = api.post("/invoices", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Validation error: request body is not valid JSON",
    }


def test_unknown_order(api):
    response = api.post("/invoices", json={"orderId": "69ab24db449866373d5e3e35"})
    assert response.status_code == 404
    assert response.json() == {"success": False, "message": "Order not found"}


@pytest.mark.parametrize("order_id", ["not-an-id", "' OR 1=1 --", "69AB24DB449866373D5E3E35"])
def test_malformed_order_id_is_not_found_and_says_what_an_id_is(api, order_id):
    response = api.post("/invoices", json={"orderId": order_id})
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "message": "Order not found",
        "errors": [
            {"field": "orderId", "message": "must be an id of 24 lowercase hex characters"}
        ],
    }


def test_without_token_401_before_anything_else(client):
    response = client.post("/invoices", json={})
    assert response.status_code == 401
    assert response.json() == {"success": False, "message": "Invalid or missing access token"}
    bad = client.post("/invoices", json={}, headers={"accessToken": "inv_wrong"})
    assert bad.status_code == 401


def test_fully_invoiced_order_409(api):
    order = create_order(api)
    invoice = create_invoice(api, order["id"])
    response = api.post("/invoices", json={"orderId": order["id"]})
    assert response.status_code == 409
    assert response.json() == {
        "success": False,
        "message": "Order is already fully invoiced",
        "errors": [{"field": "orderId", "message": f"invoiced by {invoice['id']}"}],
    }
    assert api.get(f"/orders/{order['id']}").json()["data"]["status"] == "invoiced"


def test_partial_invoices_round_cumulatively(api):
    # 3 x 0.3333: after each invoice the line has billed round(Q_after x 0.3333): 0.33, then
    # 0.67 (0.6666), then 1.00 (0.9999); so the invoices bill 0.33, 0.34 and 0.33.
    order = create_order(api, lineItems=[line("Thing", 3, "0.3333"), dict(WIDGET)])
    thing, widget = (li["id"] for li in order["lineItems"])
    first = create_invoice(api, order["id"], lineItems=[{"lineItemId": thing, "quantity": 1}])
    assert first["lineItems"][0]["amount"] == 0.33 and first["total"] == 0.33
    assert api.get(f"/orders/{order['id']}").json()["data"]["status"] == "partially_invoiced"
    second = create_invoice(
        api,
        order["id"],
        lineItems=[{"lineItemId": thing, "quantity": 1}, {"lineItemId": widget, "quantity": 10}],
    )
    assert [li["amount"] for li in second["lineItems"]] == [0.34, 199.9]
    last = create_invoice(api, order["id"])  # everything left: 1 thing, 20 widgets
    assert [(li["quantity"], li["amount"]) for li in last["lineItems"]] == [(1, 0.33), (20, 399.8)]
    nets = sum(Decimal(str(inv["subtotal"])) for inv in (first, second, last))
    assert nets == Decimal(str(order["subtotal"])) == Decimal("600.70")
    assert api.get(f"/orders/{order['id']}").json()["data"]["status"] == "invoiced"


def test_partial_quantity_errors_name_the_line(api):
    order = create_order(api)
    widget = order["lineItems"][0]["id"]
    cases = [
        ({"lineItemId": widget, "quantity": 0}, "lineItems[0].quantity must be greater than 0"),
        ({"lineItemId": widget, "quantity": -1}, "lineItems[0].quantity must be greater than 0"),
        (
            {"lineItemId": "69ab24db449866373d5e3e35", "quantity": 1},
            "lineItems[0].lineItemId 69ab24db449866373d5e3e35 is not a line item of this order",
        ),
        (
            {"lineItemId": "W-1", "quantity": 1},
            "lineItems[0].lineItemId must be an id of 24 lowercase hex characters",
        ),
        (
            {"lineItemId": widget, "quantity": 31},
            f"lineItems[0].quantity 31 exceeds the 30 left to invoice on line item {widget}",
        ),
    ]
    for item, message in cases:
        response = api.post("/invoices", json={"orderId": order["id"], "lineItems": [item]})
        assert response.status_code == 400, item
        assert response.json()["message"] == f"Validation error: {message}"
    create_invoice(api, order["id"], lineItems=[{"lineItemId": widget, "quantity": 25}])
    response = api.post(
        "/invoices",
        json={"orderId": order["id"], "lineItems": [{"lineItemId": widget, "quantity": 6}]},
    )
    assert response.json()["message"] == (
        "Validation error: lineItems[0].quantity 6 exceeds the 5 left to invoice "
        f"on line item {widget}"
    )


def test_per_rate_tax_breakdown(api):
    order = create_order(
        api,
        lineItems=[line("A", 1, "10.00", "19"), line("B", 1, "0.05", "19"), line("C", 2, "5", "7")],
    )
    invoice = create_invoice(api, order["id"])
    # Per rate: 19% of 10.05 = 1.9095 -> 1.91 (per line it would be 1.90 + 0.01 = 1.91 too, so
    # check the shape), 7% of 10 = 0.70.
    assert invoice["taxes"] == [
        {"category": "S", "rate": 7, "taxable": 10, "amount": 0.7},
        {"category": "S", "rate": 19, "taxable": 10.05, "amount": 1.91},
    ]
    assert invoice["taxTotal"] == 2.61 and invoice["total"] == 22.66


def test_tax_is_rounded_per_rate_not_per_line(api):
    # Three lines of 0.10 at 5%: per line 0.005 -> 0.01 each = 0.03; per rate 0.015 -> 0.02.
    order = create_order(api, lineItems=[line(f"L{i}", 1, "0.10", 5) for i in range(3)])
    invoice = create_invoice(api, order["id"])
    assert invoice["taxes"] == [{"category": "S", "rate": 5, "taxable": 0.3, "amount": 0.02}]
    assert invoice["total"] == 0.32


def test_get_unknown_or_malformed_invoice(api):
    for invoice_id in ("693738682fa9114d9af87d29", "xyz", "1 OR 1=1"):
        response = api.get(f"/invoices/{invoice_id}")
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": "Invoice not found"}


def test_patch_replaces_meta_fields_only(api):
    invoice = create_invoice(api, create_order(api)["id"], metaFields=[{"key": "po", "value": "1"}])
    assert invoice["metaFields"] == [{"key": "po", "value": "1"}]
    response = api.patch(
        f"/invoices/{invoice['id']}", json={"metaFields": [{"key": "po", "value": "PO-77"}]}
    )
    assert response.status_code == 200
    patched = response.json()["data"]
    assert patched["metaFields"] == [{"key": "po", "value": "PO-77"}]
    assert patched["updatedAt"] >= invoice["updatedAt"]
    unchanged = {k: v for k, v in patched.items() if k not in ("metaFields", "updatedAt")}
    assert unchanged == {k: v for k, v in invoice.items() if k not in ("metaFields", "updatedAt")}
    refused = api.patch(f"/invoices/{invoice['id']}", json={"metaFields": [], "total": 1})
    assert refused.status_code == 400
    assert api.get(f"/invoices/{invoice['id']}").json()["data"]["total"] == 649.18
    assert (
        api.patch("/invoices/693738682fa9114d9af87d29", json={"metaFields": []}).status_code == 404
    )


def test_list_filtered_by_order(api):
    first, second = create_order(api), create_order(api)
    create_invoice(api, first["id"])
    mine = create_invoice(api, second["id"])
    listed = api.get("/invoices", params={"orderId": second["id"]}).json()
    assert [inv["id"] for inv in listed["data"]] == [mine["id"]]
    assert listed["nextCursor"] is None
    assert len(api.get("/invoices").json()["data"]) == 2
