"""What an order says for e-invoices: the customer's postal address, VAT id, electronic address
and contact, the deliver-to address, unit codes, and the VAT categories with every rule they
impose (errors name the line and the field), and the `taxes` breakdown by (category, rate)."""

import pytest

from tests.helpers import create_invoice, create_order, line, order_body

ADDRESS = {
    "street": "Main St 1",
    "additionalStreet": "Building B",
    "city": "Berlin",
    "postalCode": "10115",
    "countrySubdivision": "Berlin",
    "country": "DE",
}


def refused(api, **overrides) -> str:
    """The 400's message, after checking that the first error names the field it starts with."""
    response = api.post("/orders", json=order_body(**overrides))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    message: str = body["message"]
    assert message.startswith("Validation error: ")
    field = body["errors"][0]["field"]
    assert message.startswith(f"Validation error: {field} ")
    return message.removeprefix("Validation error: ")


def customer(**fields) -> dict:
    return {"name": "Acme GmbH", **fields}


# The customer


def test_a_postal_address_object(api):
    order = create_order(api, customer=customer(address=ADDRESS))
    assert order["customer"]["address"] == ADDRESS
    assert api.get(f"/orders/{order['id']}").json()["data"]["customer"]["address"] == ADDRESS


def test_a_postal_address_with_only_the_country(api):
    order = create_order(api, customer=customer(address={"country": "FR"}))
    assert order["customer"]["address"] == {
        "street": "",
        "additionalStreet": "",
        "city": "",
        "postalCode": "",
        "countrySubdivision": "",
        "country": "FR",
    }


def test_a_free_text_address(api):
    order = create_order(api, customer=customer(address="Main St 1\n10115 Berlin"))
    assert order["customer"]["address"] == "Main St 1\n10115 Berlin"
    assert create_order(api, customer=customer())["customer"]["address"] is None


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            {**ADDRESS, "country": "XX"},
            "customer.address.country must be an ISO 3166-1 alpha-2 country code such as DE",
        ),
        (
            {**ADDRESS, "country": "de"},
            "customer.address.country must be an ISO 3166-1 alpha-2 country code such as DE",
        ),
        (
            {**ADDRESS, "country": "DEU"},
            "customer.address.country must be at most 2 characters",
        ),
        ({"street": "Main St 1"}, "customer.address.country is required"),
        ({**ADDRESS, "zip": "10115"}, "customer.address.zip is not a known field"),
        ({**ADDRESS, "city": "c" * 101}, "customer.address.city must be at most 100 characters"),
        (5, "customer.address must be a postal address object or free text"),
        (["Main St 1"], "customer.address must be a postal address object or free text"),
    ],
)
def test_address_errors(api, address, message):
    assert refused(api, customer=customer(address=address)) == message


# Codes that CLDR (and so Babel) lists as territories but ISO 3166-1 assigns to no country:
# unknown region, European Union, Eurozone, United Nations, outlying Oceania, pseudo-locales.
@pytest.mark.parametrize("code", ["ZZ", "EU", "EZ", "UN", "QO", "XA", "XB"])
def test_codes_that_are_not_iso_3166_countries(api, code):
    iso = "must be an ISO 3166-1 alpha-2 country code such as DE"
    address = {**ADDRESS, "country": code}
    assert refused(api, customer=customer(address=address)) == f"customer.address.country {iso}"
    assert refused(api, deliverTo=address) == f"deliverTo.country {iso}"


def test_the_e_invoice_fields_of_the_customer(api):
    fields = {
        "email": "billing@acme.example",
        "address": ADDRESS,
        "vatId": "DE123456789",
        "legalRegistrationId": "HRB 12345",
        "buyerReference": "04011000-1234512345-06",
        "electronicAddress": {"scheme": "0088", "id": "5798000000001"},
        "contact": {"name": "Jane Doe", "phone": "+49 30 1", "email": "jane@acme.example"},
    }
    order = create_order(api, customer=customer(**fields))
    assert order["customer"] == customer(**fields)
    invoice = create_invoice(api, order["id"])
    assert invoice["customer"] == order["customer"]


def test_a_partial_contact_is_filled_with_empty_strings(api):
    order = create_order(api, customer=customer(contact={"name": "Jane Doe"}))
    assert order["customer"]["contact"] == {"name": "Jane Doe", "phone": "", "email": ""}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"vatId": "123456789"}, "customer.vatId"),
        ({"vatId": "de123456789"}, "customer.vatId"),
        ({"vatId": "DE 123456789"}, "customer.vatId"),
        ({"vatId": 123}, "customer.vatId"),
        ({"electronicAddress": {"scheme": "0088"}}, "customer.electronicAddress.id"),
        ({"electronicAddress": {"id": "5798000000001"}}, "customer.electronicAddress.scheme"),
        ({"electronicAddress": {"scheme": "ab", "id": "1"}}, "customer.electronicAddress.scheme"),
        ({"electronicAddress": {"scheme": "0088", "id": ""}}, "customer.electronicAddress.id"),
        ({"electronicAddress": "0088:5798000000001"}, "customer.electronicAddress"),
        ({"contact": {"name": "J", "fax": "1"}}, "customer.contact.fax"),
        ({"contact": "Jane"}, "customer.contact"),
        ({"legalRegistrationId": "r" * 101}, "customer.legalRegistrationId"),
        ({"buyerReference": "b" * 201}, "customer.buyerReference"),
        ({"email": "not-an-email"}, "customer.email"),
    ],
)
def test_customer_field_errors_name_the_field(api, fields, field):
    message = refused(api, customer=customer(**fields))
    assert message.startswith(f"{field} "), message


def test_deliver_to(api):
    address = {**ADDRESS, "country": "AT", "city": "Wien", "postalCode": "1010"}
    order = create_order(api, deliverTo=address)
    assert order["deliverTo"] == address
    assert api.get(f"/orders/{order['id']}").json()["data"]["deliverTo"] == address
    assert create_order(api)["deliverTo"] is None


@pytest.mark.parametrize(
    ("deliver_to", "message"),
    [
        ({"city": "Wien"}, "deliverTo.country is required"),
        (
            {"country": "XX"},
            "deliverTo.country must be an ISO 3166-1 alpha-2 country code such as DE",
        ),
        ({"country": "AT", "floor": "3"}, "deliverTo.floor is not a known field"),
    ],
)
def test_deliver_to_errors(api, deliver_to, message):
    assert refused(api, deliverTo=deliver_to) == message


def test_deliver_to_is_a_postal_address_object_not_text(api):
    assert refused(api, deliverTo="Dock 7, Hamburg").startswith("deliverTo ")


# Lines: unit codes and tax categories


def test_unit_code(api):
    order = create_order(api, lineItems=[line("Work", 2, 50, unitCode="HUR"), line("Box", 1, 5)])
    assert [li["unitCode"] for li in order["lineItems"]] == ["HUR", "C62"]
    invoice = create_invoice(api, order["id"])
    assert [li["unitCode"] for li in invoice["lineItems"]] == ["HUR", "C62"]


@pytest.mark.parametrize("code", ["hur", "H", "HOUR", "H-R", ""])
def test_a_bad_unit_code(api, code):
    message = refused(api, lineItems=[line("A", 1, 1), line("Work", 1, 1, unitCode=code)])
    assert message.startswith("lineItems[1].unitCode "), message


def test_default_categories(api):
    order = create_order(
        api,
        lineItems=[
            line("Taxed", 1, 10, 19),
            line("Zero", 1, 10, 0),
            {"name": "No rate", "quantity": 1, "unitPrice": 10},
            line("Small", 1, 10, "0.0001"),
        ],
    )
    assert [li["taxCategory"] for li in order["lineItems"]] == ["S", "Z", "Z", "S"]
    assert [li["taxRate"] for li in order["lineItems"]] == [19, 0, 0, 0.0001]
    for item in order["lineItems"]:
        assert "exemptionReason" not in item and "exemptionReasonCode" not in item


@pytest.mark.parametrize("rate", [0, "0.00"])
def test_s_needs_a_rate_above_0(api, rate):
    message = refused(api, lineItems=[line("A", 1, 1, 19), line("B", 1, 1, rate, taxCategory="S")])
    assert message == "lineItems[1].taxRate must be above 0 for category S"


@pytest.mark.parametrize("category", ["Z", "E", "AE", "K", "G", "O"])
def test_zero_rated_categories_need_rate_0(api, category):
    lines = [line("A", 1, 1, 0, taxCategory=category, exemptionReasonCode="VATEX-EU-AE")]
    if category == "Z":
        del lines[0]["exemptionReasonCode"]
    lines[0]["taxRate"] = 5
    if category != "O":
        lines.insert(0, line("First", 1, 1, 19))
    index = len(lines) - 1
    message = refused(api, lineItems=lines)
    assert message == f"lineItems[{index}].taxRate must be 0 for category {category}"


@pytest.mark.parametrize("category", ["E", "AE", "K", "G", "O"])
def test_exempt_categories_need_a_reason(api, category):
    lines = [line("A", 1, 1, 0, taxCategory=category)]
    if category != "O":
        lines.insert(0, line("First", 1, 1, 19))
    index = len(lines) - 1
    message = refused(api, lineItems=lines)
    assert message == (
        f"lineItems[{index}].exemptionReason or exemptionReasonCode is required "
        f"for category {category}"
    )


CODE_OF = {
    "E": "VATEX-EU-132",
    "AE": "VATEX-EU-AE",
    "K": "VATEX-EU-IC",
    "G": "VATEX-EU-G",
    "O": "VATEX-EU-O",
}


@pytest.mark.parametrize("category", ["E", "AE", "K", "G", "O"])
@pytest.mark.parametrize("given", ["reason", "code", "both"])
def test_a_reason_or_a_code_is_enough(api, category, given):
    reason = {
        "reason": {"exemptionReason": "Exempt by law"},
        "code": {"exemptionReasonCode": CODE_OF[category]},
        "both": {"exemptionReason": "Exempt by law", "exemptionReasonCode": CODE_OF[category]},
    }[given]
    order = create_order(api, lineItems=[line("A", 2, 10, 0, taxCategory=category, **reason)])
    [item] = order["lineItems"]
    assert (item["taxCategory"], item["taxRate"]) == (category, 0)
    assert item["exemptionReason"] == reason.get("exemptionReason")
    assert item["exemptionReasonCode"] == reason.get("exemptionReasonCode")
    assert order["taxes"] == [
        {
            "category": category,
            "rate": 0,
            "taxable": 20,
            "amount": 0,
            "exemptionReason": reason.get("exemptionReason"),
            "exemptionReasonCode": reason.get("exemptionReasonCode"),
        }
    ]
    invoice = create_invoice(api, order["id"])
    assert invoice["taxes"] == order["taxes"]
    assert invoice["lineItems"][0]["exemptionReason"] == reason.get("exemptionReason")
    assert invoice["lineItems"][0]["exemptionReasonCode"] == reason.get("exemptionReasonCode")


@pytest.mark.parametrize(
    ("second", "what"),
    [
        ({"exemptionReason": "Other reason"}, "reason"),
        ({"exemptionReasonCode": "VATEX-EU-132"}, "code instead of reason"),
        ({"exemptionReason": "Exempt by law", "exemptionReasonCode": "VATEX-EU-132"}, "plus code"),
    ],
)
def test_the_reason_is_the_same_on_every_line_of_a_category(api, second, what):
    lines = [
        line("A", 1, 1, 19),
        line("B", 1, 1, 0, taxCategory="E", exemptionReason="Exempt by law"),
        line("C", 1, 1, 0, taxCategory="AE", exemptionReasonCode="VATEX-EU-AE"),
        line("D", 1, 1, 0, taxCategory="E", **second),
    ]
    assert refused(api, lineItems=lines) == (
        "lineItems[3].exemptionReason must be the same on every line of category E "
        "(with exemptionReasonCode)"
    ), what


def test_the_same_reason_on_every_line_and_other_reasons_for_other_categories(api):
    order = create_order(
        api,
        lineItems=[
            line("B", 1, 1, 0, taxCategory="E", exemptionReason="Exempt by law"),
            line("C", 1, 2, 0, taxCategory="AE", exemptionReasonCode="VATEX-EU-AE"),
            line("D", 1, 3, 0, taxCategory="E", exemptionReason="Exempt by law"),
        ],
    )
    assert [t["category"] for t in order["taxes"]] == ["AE", "E"]
    assert order["taxes"][1]["taxable"] == 4


@pytest.mark.parametrize("other", [line("S", 1, 1, 19), line("Z", 1, 1, 0)])
def test_o_cannot_mix_with_other_categories(api, other):
    outside = line("Out", 1, 1, 0, taxCategory="O", exemptionReason="Not subject to VAT")
    assert refused(api, lineItems=[outside, dict(outside), other]) == (
        "lineItems[2].taxCategory cannot be mixed with category O (outside the scope of VAT) "
        "in one order"
    )
    assert refused(api, lineItems=[other, outside]) == (
        "lineItems[0].taxCategory cannot be mixed with category O (outside the scope of VAT) "
        "in one order"
    )


def test_o_alone_is_fine(api):
    outside = line("Out", 1, 1, 0, taxCategory="O", exemptionReasonCode="VATEX-EU-O")
    order = create_order(api, lineItems=[outside, dict(outside, name="Out 2")])
    assert order["taxes"] == [
        {
            "category": "O",
            "rate": 0,
            "taxable": 2,
            "amount": 0,
            "exemptionReason": None,
            "exemptionReasonCode": "VATEX-EU-O",
        }
    ]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"taxCategory": "X"}, "lineItems[0].taxCategory"),
        ({"taxCategory": "s"}, "lineItems[0].taxCategory"),
        ({"taxCategory": "E", "exemptionReasonCode": "EU-132"}, "lineItems[0].exemptionReasonCode"),
        ({"taxCategory": "E", "exemptionReason": ""}, "lineItems[0].exemptionReason"),
    ],
)
def test_malformed_category_fields(api, extra, field):
    message = refused(api, lineItems=[line("A", 1, 1, 0, **extra)])
    assert message.startswith(f"{field} "), message


def test_canary_islands_and_ceuta_melilla_have_their_own_rates(api):
    order = create_order(
        api,
        lineItems=[line("A", 1, 100, 7, taxCategory="L"), line("B", 1, 100, 4, taxCategory="M")],
    )
    assert order["taxes"] == [
        {"category": "L", "rate": 7, "taxable": 100, "amount": 7},
        {"category": "M", "rate": 4, "taxable": 100, "amount": 4},
    ]


# The breakdown


def test_taxes_are_grouped_by_category_and_rate_in_order(api):
    order = create_order(
        api,
        lineItems=[
            line("S19", 1, "10.05", 19),
            line("Zero", 1, "3.00", 0),
            line("Exempt", 2, "5.00", 0, taxCategory="E", exemptionReason="Medical care"),
            line("S7", 2, "5.00", 7),
            line("Reverse", 1, "100", 0, taxCategory="AE", exemptionReasonCode="VATEX-EU-AE"),
            line("S19 again", 3, "0.10", "19.00"),
            line("S8.25", 1, "599.70", "8.25"),
            line(
                "Intra",
                1,
                "40",
                0,
                taxCategory="K",
                exemptionReason="Intra-community supply",
                exemptionReasonCode="VATEX-EU-IC",
            ),
            line("Export", 1, "1", 0, taxCategory="G", exemptionReasonCode="VATEX-EU-G"),
        ],
    )
    # S 19: 10.05 + 0.30 = 10.35 -> 1.9665 -> 1.97 (per line it would be 1.91 + 0.06 = 1.97
    # too, the rounding is per group); S 8.25: 49.47525 -> 49.48; S 7: 10 -> 0.70.
    assert order["taxes"] == [
        {
            "category": "AE",
            "rate": 0,
            "taxable": 100,
            "amount": 0,
            "exemptionReason": None,
            "exemptionReasonCode": "VATEX-EU-AE",
        },
        {
            "category": "E",
            "rate": 0,
            "taxable": 10,
            "amount": 0,
            "exemptionReason": "Medical care",
            "exemptionReasonCode": None,
        },
        {
            "category": "G",
            "rate": 0,
            "taxable": 1,
            "amount": 0,
            "exemptionReason": None,
            "exemptionReasonCode": "VATEX-EU-G",
        },
        {
            "category": "K",
            "rate": 0,
            "taxable": 40,
            "amount": 0,
            "exemptionReason": "Intra-community supply",
            "exemptionReasonCode": "VATEX-EU-IC",
        },
        {"category": "S", "rate": 7, "taxable": 10, "amount": 0.7},
        {"category": "S", "rate": 8.25, "taxable": 599.7, "amount": 49.48},
        {"category": "S", "rate": 19, "taxable": 10.35, "amount": 1.97},
        {"category": "Z", "rate": 0, "taxable": 3, "amount": 0},
    ]
    assert (order["subtotal"], order["taxTotal"], order["total"]) == (774.05, 52.15, 826.2)
    invoice = create_invoice(api, order["id"])
    assert invoice["taxes"] == order["taxes"]
    assert (invoice["subtotal"], invoice["taxTotal"], invoice["total"]) == (774.05, 52.15, 826.2)


def test_tax_is_rounded_per_group_not_per_line(api):
    # Three lines of 0.10 at 5 %: per line 0.005 -> 0.01 each, 0.03; per group 0.015 -> 0.02.
    order = create_order(api, lineItems=[line(f"L{i}", 1, "0.10", 5) for i in range(3)])
    assert order["taxes"] == [{"category": "S", "rate": 5, "taxable": 0.3, "amount": 0.02}]
    assert (order["taxTotal"], order["total"]) == (0.02, 0.32)


def test_the_same_rate_written_differently_is_one_group(api):
    order = create_order(api, lineItems=[line("A", 1, "0.10", 5), line("B", 2, "0.10", "5.000")])
    assert order["taxes"] == [{"category": "S", "rate": 5, "taxable": 0.3, "amount": 0.02}]


def test_one_rate_in_two_categories_is_two_groups(api):
    order = create_order(
        api,
        lineItems=[
            line("Canary", 1, "10", 7, taxCategory="L"),
            line("Standard", 1, "10", 7),
        ],
    )
    assert order["taxes"] == [
        {"category": "L", "rate": 7, "taxable": 10, "amount": 0.7},
        {"category": "S", "rate": 7, "taxable": 10, "amount": 0.7},
    ]


def test_a_partial_invoice_carries_only_its_groups(api):
    order = create_order(
        api,
        lineItems=[
            line("Taxed", 1, 10, 19),
            line("Exempt", 1, 10, 0, taxCategory="E", exemptionReasonCode="VATEX-EU-132"),
        ],
    )
    exempt = order["lineItems"][1]["id"]
    invoice = create_invoice(api, order["id"], lineItems=[{"lineItemId": exempt, "quantity": 1}])
    assert invoice["taxes"] == [
        {
            "category": "E",
            "rate": 0,
            "taxable": 10,
            "amount": 0,
            "exemptionReason": None,
            "exemptionReasonCode": "VATEX-EU-132",
        }
    ]


@pytest.mark.parametrize(
    ("category", "code", "message"),
    [
        ("E", "VATEX-EU-135", "must be a code of the CEF VATEX list, such as VATEX-EU-AE"),
        ("E", "VATEX-EU-IC", "VATEX-EU-IC is not a VATEX code for category E"),
        ("K", "VATEX-EU-AE", "VATEX-EU-AE is not a VATEX code for category K"),
        ("AE", "VATEX-EU-132", "VATEX-EU-132 is not a VATEX code for category AE"),
    ],
)
def test_an_exemption_code_must_be_on_the_vatex_list_and_fit_its_category(
    api, category, code, message
):
    item = line("A", 1, 10, 0, taxCategory=category, exemptionReasonCode=code)
    response = api.post("/orders", json=order_body(lineItems=[item]))
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "lineItems[0].exemptionReasonCode", "message": message}
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", " "), ("name", "\u00a0\t"), ("name", "A\x01B"), ("sku", "A\ufffeB")],
)
def test_blank_names_and_characters_no_document_can_hold_are_refused(api, field, value):
    response = api.post("/orders", json=order_body(lineItems=[line("A", 1, 10) | {field: value}]))
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == f"lineItems[0].{field}"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        (
            {"scheme": "ZZZ", "id": "x"},
            "must be a code of the EAS list, such as 0088 (GLN) or 0204",
        ),
        ({"scheme": "0088", "id": "123"}, "id must be a GLN of 13 digits with a valid check digit"),
        (
            {"scheme": "0088", "id": "5790000435976"},
            "id must be a GLN of 13 digits with a valid check digit",
        ),
    ],
)
def test_an_electronic_address_must_be_one_the_rules_accept(api, address, message):
    customer = {"name": "Acme GmbH", "electronicAddress": address}
    response = api.post("/orders", json=order_body(customer=customer))
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert (
        api.post(
            "/orders",
            json=order_body(
                customer={
                    **customer,
                    "electronicAddress": {"scheme": "0088", "id": "5790000435975"},
                }
            ),
        ).status_code
        == 201
    )
