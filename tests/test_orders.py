"""POST/GET /orders: validation, exact money per currency, and the order object."""

from io import BytesIO

import pytest
from pypdf import PdfReader

from tests.helpers import create_invoice, create_order, line, order_body


def test_order_object(api):
    response = api.post("/orders", json=order_body(metaFields=[{"key": "po", "value": "PO-77"}]))
    assert response.status_code == 201
    assert response.json()["message"] == "Order created successfully"
    order = response.json()["data"]
    assert order["id"] == order["_id"]
    assert order["status"] == "open"
    assert order["customer"] == {
        "name": "Acme GmbH",
        "email": "billing@acme.example",
        "address": "Main St 1",
        "vatId": None,
        "legalRegistrationId": None,
        "buyerReference": None,
        "electronicAddress": None,
        "contact": None,
    }
    [item] = order["lineItems"]
    assert item["amount"] == 599.7 and item["invoicedQuantity"] == 0
    assert (order["subtotal"], order["taxTotal"], order["total"]) == (599.7, 49.48, 649.18)
    assert order["metaFields"] == [{"key": "po", "value": "PO-77"}]
    assert order["createdBy"]["id"] == api.token_id
    assert api.get(f"/orders/{order['id']}").json() == {"success": True, "data": order}


@pytest.mark.parametrize(
    ("currency", "lines", "expected"),
    [
        # 3 x 0.1 is 0.3 exactly, not 0.30000000000000004
        ("USD", [line("A", 3, 0.1)], {"subtotal": 0.3, "total": 0.3}),
        # JPY has no minor unit: 3 x 333.5 = 1000.5 -> 1001 (half up), 10% tax 100.1 -> 100
        ("JPY", [line("A", 3, "333.5", 10)], {"subtotal": 1001, "taxTotal": 100, "total": 1101}),
        # KWD has three: 1.2345 x 1 -> 1.235 (half up, not banker's 1.234)
        ("KWD", [line("A", 1, "1.2345")], {"subtotal": 1.235, "total": 1.235}),
        ("USD", [line("A", "0.005", 1)], {"subtotal": 0.01}),  # half up at .5
        (
            "EUR",
            [line("A", "2.5", "19.99", 19)],
            {"subtotal": 49.98, "taxTotal": 9.5, "total": 59.48},
        ),
        ("USD", [line("A", 7, "3684.78")], {"subtotal": 25793.46}),
    ],
)
def test_money_is_exact_per_currency(api, currency, lines, expected):
    order = create_order(api, currency=currency, lineItems=lines)
    assert {key: order[key] for key in expected} == expected


def test_whole_quantities_are_integers(api):
    order = create_order(api, lineItems=[line("A", "2.000", 1), line("B", "1.5", 1)])
    quantities = [li["quantity"] for li in order["lineItems"]]
    assert quantities == [2, 1.5] and isinstance(quantities[0], int)


def test_default_currency(api):
    body = order_body()
    del body["currency"]
    assert create_order(api, **{k: v for k, v in body.items()})["currency"] == "USD"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer": {}}, "customer.name is required"),
        ({"lineItems": []}, "lineItems must have at least 1 item(s)"),
        ({"lineItems": [line("A", 0, 1)]}, "lineItems[0].quantity must be greater than 0"),
        (
            {"lineItems": [line("A", "1.0001", 1)]},
            "lineItems[0].quantity must have at most 3 decimals",
        ),
        ({"lineItems": [line("A", 1, -1)]}, "lineItems[0].unitPrice must be at least 0"),
        (
            {"lineItems": [line("A", 1, "0.12345")]},
            "lineItems[0].unitPrice must have at most 4 decimals",
        ),
        ({"lineItems": [line("A", 1, "abc")]}, "lineItems[0].unitPrice must be a number"),
        ({"lineItems": [line("A", 1, 1, 101)]}, "lineItems[0].taxRate must be at most 100"),
        ({"lineItems": [{"quantity": 1, "unitPrice": 1}]}, "lineItems[0].name is required"),
        ({"currency": "XYZ"}, "currency must be an ISO 4217 currency code such as USD"),
        ({"lineItems": [line("A", 1, 1)] * 501}, "lineItems must have at most 500 items"),
        ({"metaFields": [{"key": "a", "value": "1"}] * 2}, "metaFields keys must be unique"),
        ({"metaFields": [{"key": "", "value": "1"}]}, "metaFields[0].key is required"),
        (
            {"metaFields": [{"key": "k" * 41, "value": "1"}]},
            "metaFields[0].key must be at most 40 characters",
        ),
        (
            {"metaFields": [{"key": "k", "value": "v" * 501}]},
            "metaFields[0].value must be at most 500 characters",
        ),
        (
            {"metaFields": [{"key": f"k{i}", "value": ""} for i in range(51)]},
            "metaFields must have at most 50 items",
        ),
        ({"metaFields": [{"key": "k", "value": 5}]}, "metaFields[0].value must be a string"),
        (
            {"lineItems": [line("A", 10**9, 10**11)]},
            "lineItems: the order total must be below 10000000000000000",
        ),
    ],
)
def test_validation(api, change, message):
    response = api.post("/orders", json=order_body(**change))
    assert response.status_code == 400
    assert response.json()["message"] == f"Validation error: {message}"
    assert response.json()["errors"][0]["field"]


def test_500_lines_allowed(api):
    order = create_order(api, lineItems=[line(f"L{i}", 1, "0.01") for i in range(500)])
    assert len(order["lineItems"]) == 500 and order["total"] == 5


def test_unknown_order(api):
    for order_id in ("69ab24db449866373d5e3e35", "zz"):
        response = api.get(f"/orders/{order_id}")
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": "Order not found"}


def test_list_by_status(api):
    open_order = create_order(api)
    invoiced = create_order(api)
    api.post("/invoices", json={"orderId": invoiced["id"]})
    by_status = {
        status: [o["id"] for o in api.get("/orders", params={"status": status}).json()["data"]]
        for status in ("open", "invoiced", "partially_invoiced")
    }
    assert by_status == {
        "open": [open_order["id"]],
        "invoiced": [invoiced["id"]],
        "partially_invoiced": [],
    }
    assert api.get("/orders", params={"status": "paid"}).status_code == 400


# A customer address is printed in full on the PDF: at most 10 lines of at most 100 characters
# (and 1000 in all, the column's size), refused beyond that rather than cut off on the page.
def _address_line(number: int, length: int) -> str:
    # The widest letter in one unbreakable word, or words: wrapped, never clipped.
    filler = "W" * length if number % 2 else "Müller Straße " * 8
    return (f"{number:02d} " + filler)[:length]


MAXIMAL_ADDRESS = "\n".join(_address_line(i, 100 if i == 10 else 99) for i in range(1, 11))


def test_maximal_customer_address_is_accepted_and_printed_in_full(api):
    lines = MAXIMAL_ADDRESS.split("\n")
    assert len(lines) == 10 and max(map(len, lines)) == 100 and len(MAXIMAL_ADDRESS) == 1000
    customer = {"name": "Acme GmbH", "address": MAXIMAL_ADDRESS}
    order = create_order(api, customer=customer)
    assert order["customer"]["address"] == MAXIMAL_ADDRESS
    invoice = create_invoice(api, order["id"])
    pdf = api.get(f"/invoices/{invoice['id']}/pdf").content
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(BytesIO(pdf)).pages)
    for address_line in lines:
        assert "".join(address_line.split()) in text
    assert "$649.18" in text


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("\n".join(f"Line {i}" for i in range(11)), "must have at most 10 lines"),
        ("Hof 3\r\n" * 11, "must have at most 10 lines"),
        ("Main St 1" + "\n" * 20 + "Berlin", "must have at most 10 lines"),
        ("Main St 1\n" + "x" * 101, "line 2 must be at most 100 characters"),
        ("y" * 101, "line 1 must be at most 100 characters"),
    ],
)
def test_customer_address_too_long_to_print_is_refused(api, address, message):
    response = api.post("/orders", json=order_body(customer={"name": "A", "address": address}))
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": f"Validation error: customer.address {message}",
        "errors": [{"field": "customer.address", "message": message}],
    }
    assert api.get("/orders").json()["data"] == []


def test_customer_address_edges_are_accepted(api):
    # Ten lines plus the line break that often ends a pasted address; a 100-character line.
    for address in ("\n".join(f"Line {i}" for i in range(10)) + "\n", "z" * 100):
        order = create_order(api, customer={"name": "A", "address": address})
        assert order["customer"]["address"] == address


@pytest.mark.parametrize(
    "email", ["nope", "a@b", "two@x.example, three@x.example", "a b@x.example", "@x.example"]
)
def test_a_malformed_customer_email_is_refused_at_order_creation(api, email):
    body = order_body(customer={"name": "Acme GmbH", "email": email})
    response = api.post("/orders", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Validation error: customer.email must be a valid email address",
        "errors": [{"field": "customer.email", "message": "must be a valid email address"}],
    }
    assert api.get("/orders").json()["data"] == []  # nothing was stored


@pytest.mark.parametrize("email", ["billing@acme.example", "jörg@bücher.example", None])
def test_a_well_formed_customer_email_is_kept_as_sent(api, email):
    body = order_body(customer={"name": "Acme GmbH", "email": email})
    response = api.post("/orders", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["customer"]["email"] == email
