"""Numbers exactly as written, both ways: amounts and quantities leave as the exact digits stored
(never through binary floats, at any size up to the cap), and the numbers a client sends are
validated digit for digit (JSON numbers as decimals, decimal strings of ASCII digits only)."""

import json
import re
from decimal import Decimal
from typing import Any

import pytest

from invoicing.core.money import MAX_AMOUNT
from tests.helpers import create_order, line, order_body

NUMBER_FIELDS = (
    "quantity|unitPrice|taxRate|amount|invoicedQuantity|subtotal|taxTotal|total|rate|taxable"
)
# A number field's JSON text, as sent on the wire.
NUMBER_TEXT = re.compile(rf'"(?:{NUMBER_FIELDS})":([^,}}\]]*)')
# Canonical: no exponent, no trailing zeros after the point, no trailing point, never -0.
CANONICAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?")


def exact(response: Any) -> Any:
    """The response body with every JSON number read as the Decimal it spells."""
    return json.loads(response.text, parse_float=Decimal, parse_int=Decimal)


def number_texts(response: Any) -> list[str]:
    texts = NUMBER_TEXT.findall(response.text)
    assert texts, response.text
    return texts


def assert_canonical(response: Any) -> None:
    for text in number_texts(response):
        assert CANONICAL.fullmatch(text), (text, response.text)


def post_raw(api: Any, path: str, body: str) -> Any:
    return api.post(path, content=body.encode(), headers={"Content-Type": "application/json"})


def raw_order(
    quantity: str, unit_price: str = "1", tax_rate: str = "0", currency: str = "USD"
) -> str:
    """An order body whose one line carries these number texts verbatim."""
    return (
        f'{{"customer": {{"name": "Acme"}}, "currency": "{currency}", "lineItems": '
        f'[{{"name": "A", "quantity": {quantity}, "unitPrice": {unit_price}, '
        f'"taxRate": {tax_rate}}}]}}'
    )


def half_up(value: Decimal, unit: str) -> Decimal:
    return value.quantize(Decimal(unit), rounding="ROUND_HALF_UP")


# --- 1. Amounts leave as their exact decimal text -------------------------------------------


def test_four_decimal_amounts_near_the_old_cap_are_exact(api):
    """CLF has 4 minor digits: 16 significant digits, more than a double holds (it said …6403)."""
    unit_price, quantity, rate = Decimal("97356012548.6067"), Decimal(6), Decimal(19)
    amount = quantity * unit_price
    tax = half_up(amount * rate / 100, "0.0001")
    assert (amount, tax) == (Decimal("584136075291.6402"), Decimal("110985854305.4116"))
    expected = {
        "amount": amount,
        "subtotal": amount,
        "taxes": [{"rate": rate, "taxable": amount, "amount": tax}],
        "taxTotal": tax,
        "total": amount + tax,
    }

    def check(document: dict[str, Any]) -> None:
        assert document["lineItems"][0]["amount"] == expected["amount"]
        assert document["lineItems"][0]["unitPrice"] == unit_price
        for key in ("subtotal", "taxTotal", "total"):
            assert document[key] == expected[key], key
        taxes = [
            {key: tax[key] for key in ("rate", "taxable", "amount")} for tax in document["taxes"]
        ]
        assert taxes == expected["taxes"]

    created = post_raw(api, "/orders", raw_order("6", str(unit_price), "19", "CLF"))
    assert created.status_code == 201, created.text
    assert '"amount":584136075291.6402' in created.text
    order = exact(created)["data"]
    check(order)
    for response in (api.get(f"/orders/{order['id']}"), api.get("/orders")):
        assert response.status_code == 200
        assert_canonical(response)
    check(exact(api.get(f"/orders/{order['id']}"))["data"])
    check(exact(api.get("/orders"))["data"][0])

    invoiced = api.post("/invoices", json={"orderId": order["id"]})
    assert invoiced.status_code == 201, invoiced.text
    invoice = exact(invoiced)["data"]
    check(invoice)
    for response in (api.get(f"/invoices/{invoice['id']}"), api.get("/invoices")):
        assert response.status_code == 200
        assert_canonical(response)
    check(exact(api.get(f"/invoices/{invoice['id']}"))["data"])
    check(exact(api.get("/invoices"))["data"][0])


def test_amounts_up_to_the_cap_are_exact(api):
    """The cap is what the columns hold (NUMERIC(20, 4)): just below it, amounts that no double
    can represent (2^53 + 1) come back to the cent."""
    assert Decimal(10) ** 16 == MAX_AMOUNT
    # 100000000 x 90071992.5474 + 993.25 = 9007199254740993.25 (above 2^53: no double is near)
    body = order_body(
        lineItems=[line("Big", "100000000", "90071992.5474"), line("Rest", "1", "993.25")]
    )
    response = api.post("/orders", json=body)
    assert response.status_code == 201, response.text
    assert '"total":9007199254740993.25' in response.text
    order = exact(response)["data"]
    assert order["total"] == Decimal("9007199254740993.25")
    assert [item["amount"] for item in order["lineItems"]] == [
        Decimal("9007199254740000"),
        Decimal("993.25"),
    ]
    assert exact(api.get(f"/orders/{order['id']}"))["data"]["total"] == order["total"]
    invoice = exact(api.post("/invoices", json={"orderId": order["id"]}))["data"]
    assert invoice["total"] == order["total"]
    assert exact(api.get(f"/invoices/{invoice['id']}"))["data"]["total"] == order["total"]


def test_the_cap_names_what_it_protects(api):
    response = api.post("/orders", json=order_body(lineItems=[line("A", 10**9, 10**11)]))
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Validation error: lineItems: the order total must be below 10000000000000000",
        "errors": [{"field": "lineItems", "message": "total must be below 10000000000000000"}],
    }
    # 10^16 - 0.01 is the largest USD total that fits; 10^16 itself does not
    at_cap = order_body(lineItems=[line("A", 1000000, "10000000000")])
    assert api.post("/orders", json=at_cap).status_code == 400
    below = order_body(lineItems=[line("A", 1000000, "9999999999.9999"), line("B", 1, "99.99")])
    response = api.post("/orders", json=below)
    assert response.status_code == 201, response.text
    assert '"total":9999999999999999.99' in response.text


def test_numbers_are_canonical_json(api):
    """`30` not `30.000`, `19.99` not `19.9900`, `0.1`, and never `-0`, whatever the stored form."""
    body = raw_order('"30.000"', '"19.9900"', '"8.2500"')
    order = exact(post_raw(api, "/orders", body))["data"]
    zero = exact(post_raw(api, "/orders", raw_order("1", "-0.0", "-0.0")))["data"]
    tenth = create_order(api, lineItems=[line("A", 1, "0.1")])
    invoice = api.post("/invoices", json={"orderId": order["id"]})
    for response in (
        api.get(f"/orders/{order['id']}"),
        api.get(f"/orders/{zero['id']}"),
        api.get(f"/orders/{tenth['id']}"),
        invoice,
        api.get(f"/invoices/{invoice.json()['data']['id']}"),
        api.get("/orders"),
    ):
        assert_canonical(response)
    text = api.get(f"/orders/{order['id']}").text
    for field in ('"quantity":30,', '"unitPrice":19.99,', '"taxRate":8.25,', '"total":649.18,'):
        assert field in text
    text = api.get(f"/orders/{zero['id']}").text
    assert '"unitPrice":0,' in text and '"taxRate":0,' in text and '"amount":0,' in text


# --- 2. Numbers in are validated digit for digit --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '"1_000"',
        '"\\u0663"',
        '"\u0663"',
        '" 5 "',
        '"5\\n"',
        '"5 "',
        '"1E+3"',
        '"1e3"',
        '"+5"',
        '"-5"',
        '"1."',
        '".5"',
        '"0x10"',
        '"NaN"',
        '"Infinity"',
        '""',
        "[0, [1], 0]",
        "true",
        "null",
        "{}",
    ],
)
def test_decimal_strings_are_ascii_digits_with_an_optional_point(api, text):
    for body, field in (
        (raw_order(text), "quantity"),
        (raw_order("1", text), "unitPrice"),
        (raw_order("1", "1", text), "taxRate"),
        # the same with a number that makes the body go through the exact pass as well
        (raw_order(text, "1", "0e0"), "quantity"),
        (raw_order("1", text, "-0.0"), "unitPrice"),
        (raw_order("1.00000000000000000000", "1", text), "taxRate"),
    ):
        response = post_raw(api, "/orders", body)
        assert response.status_code == 400, (text, field, response.text)
        assert (
            response.json()["message"] == f"Validation error: lineItems[0].{field} must be a number"
        )


@pytest.mark.parametrize(
    ("quantity", "unit_price", "tax_rate", "message"),
    [
        # a double would read these as 1, 19.99 and 8.25, and accept them
        ("1.00000000000000000001", "1", "0", "quantity must have at most 3 decimals"),
        ("1", "19.990000000000000000001", "0", "unitPrice must have at most 4 decimals"),
        ("1", "1", "8.2500000000000000000001", "taxRate must have at most 4 decimals"),
        ("1", "97356012548.60670000001", "0", "unitPrice must have at most 4 decimals"),
        ("1.0000000000000000001e3", "1", "0", "quantity must have at most 3 decimals"),
        ("1", "1", "100.00000000000000001", "taxRate must have at most 4 decimals"),
        ("1000000000.0000000001", "1", "0", "quantity must have at most 3 decimals"),
        # exponents are read exactly too, however large or small
        ("1e-400", "1", "0", "quantity must have at most 3 decimals"),
        ("1e999999999", "1", "0", "quantity must be at most 1000000000"),
        ("1", "1E+999999999", "0", "unitPrice must be at most 100000000000"),
        ("1", "1e-999999999", "0", "unitPrice must have at most 4 decimals"),
        ("1e-4", "1", "0", "quantity must have at most 3 decimals"),
        ("0.0001", "1", "0", "quantity must have at most 3 decimals"),
        ("-0.0", "1", "0", "quantity must be greater than 0"),
        ("-1e-30", "1", "0", "quantity must have at most 3 decimals"),  # decimals come first
        ("-1", "1", "0", "quantity must be greater than 0"),
        ("1", "-0.00000000000000000001", "0", "unitPrice must have at most 4 decimals"),
        ("1", "-1e0", "0", "unitPrice must be at least 0"),
    ],
)
def test_json_numbers_are_validated_as_written(api, quantity, unit_price, tax_rate, message):
    response = post_raw(api, "/orders", raw_order(quantity, unit_price, tax_rate))
    assert response.status_code == 400, response.text
    assert response.json()["message"] == f"Validation error: lineItems[0].{message}"


@pytest.mark.parametrize(
    ("quantity", "unit_price", "expected"),
    [
        ("1e3", "1", (Decimal(1000), Decimal(1))),
        ("2.5E+1", "1.999e1", (Decimal(25), Decimal("19.99"))),
        ("12.5e-1", "0.0001e4", (Decimal("1.25"), Decimal(1))),
        ("30.000000000000000000000", "19.9900000000000000000", (Decimal(30), Decimal("19.99"))),
        ("0.001", "99999999999.9999", (Decimal("0.001"), Decimal("99999999999.9999"))),
    ],
)
def test_exponents_and_long_forms_are_accepted_exactly(api, quantity, unit_price, expected):
    """JSON numbers in exponent form are plain JSON numbers: accepted for exactly what they say."""
    response = post_raw(api, "/orders", raw_order(quantity, unit_price))
    assert response.status_code == 201, response.text
    assert_canonical(response)
    [item] = exact(response)["data"]["lineItems"]
    assert (item["quantity"], item["unitPrice"]) == expected
    stored = exact(api.get(f"/orders/{exact(response)['data']['id']}"))["data"]
    assert (stored["lineItems"][0]["quantity"], stored["lineItems"][0]["unitPrice"]) == expected


def partial(order_id: str, line_id: str, quantity: str) -> str:
    item = f'{{"lineItemId": "{line_id}", "quantity": {quantity}}}'
    return f'{{"orderId": "{order_id}", "lineItems": [{item}]}}'


def test_partial_invoice_quantities_are_validated_as_written(api):
    order = create_order(api)
    widget = order["lineItems"][0]["id"]
    for text, message in (
        ("1.00000000000000000001", "must have at most 3 decimals"),
        ('"1_0"', "must be a number"),
        ('" 5"', "must be a number"),
        ("-0.0", "must be greater than 0"),
    ):
        response = post_raw(api, "/invoices", partial(order["id"], widget, text))
        assert response.status_code == 400, (text, response.text)
        assert response.json()["message"] == f"Validation error: lineItems[0].quantity {message}"
    response = post_raw(api, "/invoices", partial(order["id"], widget, "2.5e0"))
    assert response.status_code == 201, response.text
    assert '"quantity":2.5,' in response.text


def test_openapi_documents_exact_numbers(api):
    schemas = api.get("/openapi.json").json()["components"]["schemas"]
    for model, field in (
        ("OrderLineIn", "quantity"),
        ("OrderLineIn", "unitPrice"),
        ("OrderLineIn", "taxRate"),
        ("InvoiceLineIn", "quantity"),
    ):
        schema = schemas[model]["properties"][field]
        number, string = schema["anyOf"]
        assert number["type"] == "number" and string["type"] == "string"
        assert string["pattern"] == "^[0-9]+(\\.[0-9]+)?$"
        assert "exponent" in schema["description"], schema
    for model, field in (("OrderLineOut", "amount"), ("InvoiceOut", "total"), ("TaxOut", "amount")):
        assert schemas[model]["properties"][field]["type"] == "number"
