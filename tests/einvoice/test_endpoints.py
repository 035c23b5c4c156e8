"""GET /invoices/{id}/ubl and /credit-notes/{id}/ubl: documents the official rules accept, and
422 naming each business term the copied data lacks."""

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from tests.helpers import PUBLIC_BUYER as CUSTOMER
from tests.helpers import SELLER, create_invoice, create_order, line

NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@pytest.fixture
def seller(api: Any) -> None:
    assert api.put("/seller", json=SELLER).status_code == 200


def _xml(response: Any) -> Any:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    return etree.fromstring(response.content)


def _order(api: Any, **overrides: Any) -> dict[str, Any]:
    lines = [
        line("Widget", 30, "19.99", 19, unitCode="C62", sku="W-1"),
        line("Handbook", 2, "24.50", 7),
        line("Training", 1, 480, 0, taxCategory="E", exemptionReason="Vocational training"),
    ]
    return create_order(
        api, **{"customer": CUSTOMER, "currency": "EUR", "lineItems": lines, **overrides}
    )


@pytest.mark.parametrize("profile", ["en16931", "xrechnung"])
def test_the_cii_of_an_invoice_and_its_credit_note_pass_the_official_rules(
    api, seller, validator, profile
):
    invoice = create_invoice(api, _order(api)["id"])
    response = api.get(f"/invoices/{invoice['id']}/cii", params={"profile": profile})
    _xml(response)
    assert response.headers["content-disposition"] == 'attachment; filename="invoice-1.xml"'
    validator.assert_valid(response.content, syntax="cii", profile=profile)
    note = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"}).json()
    response = api.get(f"/credit-notes/{note['data']['id']}/cii", params={"profile": profile})
    assert etree.QName(_xml(response)).localname == "CrossIndustryInvoice"
    validator.assert_valid(response.content, syntax="cii", profile=profile)
    bad = api.get(f"/invoices/{invoice['id']}/cii", params={"profile": "peppol"})
    assert bad.status_code == 400


@pytest.mark.parametrize("profile", ["peppol", "xrechnung"])
def test_an_invoice_and_its_credit_note_pass_the_official_rules(api, seller, validator, profile):
    invoice = create_invoice(api, _order(api)["id"])
    response = api.get(f"/invoices/{invoice['id']}/ubl", params={"profile": profile})
    document = _xml(response)
    assert response.headers["content-disposition"] == 'attachment; filename="invoice-1.xml"'
    validator.assert_valid(response.content, syntax="ubl", profile=profile)
    assert document.findtext("cbc:ID", namespaces=NS) == invoice["number"]
    assert document.findtext("cbc:DueDate", namespaces=NS) == invoice["dueDate"]
    assert document.findtext("cac:OrderReference/cbc:ID", namespaces=NS) == invoice["order"]
    payable = document.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS)
    assert Decimal(payable) == Decimal(str(invoice["total"]))
    groups = [
        (
            s.findtext("cac:TaxCategory/cbc:ID", namespaces=NS),
            Decimal(s.findtext("cbc:TaxAmount", namespaces=NS)),
        )
        for s in document.findall("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    ]
    assert groups == [(t["category"], Decimal(str(t["amount"]))) for t in invoice["taxes"]]
    reason = document.findtext(
        "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:TaxExemptionReason", namespaces=NS
    )
    assert reason == "Vocational training"

    note = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"}).json()[
        "data"
    ]
    response = api.get(f"/credit-notes/{note['id']}/ubl", params={"profile": profile})
    credit = _xml(response)
    assert response.headers["content-disposition"] == 'attachment; filename="credit-note-CN-1.xml"'
    validator.assert_valid(response.content, syntax="ubl", profile=profile)
    assert etree.QName(credit).localname == "CreditNote"
    assert credit.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    billing = credit.find("cac:BillingReference/cac:InvoiceDocumentReference", NS)
    assert billing.findtext("cbc:IssueDate", namespaces=NS) == invoice["issueDate"]  # BT-26
    assert (
        credit.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=NS)
        == invoice["number"]
    )


def test_split_invoices_in_yen_state_their_rounding_so_the_peppol_line_rule_holds(
    api, seller, validator
):
    order = _order(api, currency="JPY", lineItems=[line("Screw", 3, "0.5", 10)])
    screw = order["lineItems"][0]["id"]
    for _ in range(3):  # 0.5 -> 1, then 1.0 -> 1 (0 more), then 1.5 -> 2 (1 more)
        invoice = create_invoice(api, order["id"], lineItems=[{"lineItemId": screw, "quantity": 1}])
        response = api.get(f"/invoices/{invoice['id']}/ubl")
        validator.assert_valid(response.content, syntax="ubl", profile="peppol")
    charge = _xml(response).find("cac:InvoiceLine/cac:AllowanceCharge", namespaces=NS)
    assert charge is not None and charge.findtext("cbc:ChargeIndicator", namespaces=NS) == "true"
    assert Decimal(charge.findtext("cbc:Amount", namespaces=NS)) == Decimal("0.5")


def test_missing_data_is_named_by_business_term_and_field(api):
    # The default seller (from the environment) has no postal address, VAT id or endpoint.
    order = create_order(api, currency="EUR")
    invoice = create_invoice(api, order["id"])
    response = api.get(f"/invoices/{invoice['id']}/ubl")
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "The invoice lacks data that EN 16931 requires"
    fields = {error["field"]: error["message"] for error in body["errors"]}
    assert set(fields) == {
        "seller.address", "customer.address", "seller.vatId",
        "seller.electronicAddress", "customer.electronicAddress",
    }  # fmt: skip
    assert fields["seller.vatId"].startswith("BT-31")
    assert fields["customer.electronicAddress"].startswith("BT-49")


def test_xrechnung_needs_the_buyer_reference_and_the_seller_contact(api):
    api.put("/seller", json={**SELLER, "contact": None}).raise_for_status()
    customer = {key: value for key, value in CUSTOMER.items() if key != "buyerReference"}
    invoice = create_invoice(api, _order(api, customer=customer)["id"])
    response = api.get(f"/invoices/{invoice['id']}/ubl", params={"profile": "xrechnung"})
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {
        "customer.buyerReference", "seller.contact.name", "seller.contact.phone",
        "seller.contact.email",
    }  # fmt: skip


def test_xrechnung_takes_the_buyers_email_as_its_electronic_address(api, seller, validator):
    customer = {key: value for key, value in CUSTOMER.items() if key != "electronicAddress"} | {
        "email": "rechnung@hamburg.example"
    }
    invoice = create_invoice(api, _order(api, customer=customer)["id"])
    response = api.get(f"/invoices/{invoice['id']}/ubl", params={"profile": "xrechnung"})
    validator.assert_valid(response.content, syntax="ubl", profile="xrechnung")
    endpoint = _xml(response).find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (endpoint.get("schemeID"), endpoint.text) == ("EM", "rechnung@hamburg.example")
    response = api.get(f"/invoices/{invoice['id']}/cii", params={"profile": "xrechnung"})
    validator.assert_valid(response.content, syntax="cii", profile="xrechnung")
    peppol = api.get(f"/invoices/{invoice['id']}/ubl")  # Peppol routes on participant ids only
    assert peppol.status_code == 422
    assert [e["field"] for e in peppol.json()["errors"]] == ["customer.electronicAddress"]


def test_a_three_decimal_currency_is_refused(api, seller):
    invoice = create_invoice(api, _order(api, currency="KWD")["id"])
    response = api.get(f"/invoices/{invoice['id']}/ubl")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "currency", "message": "EN 16931 allows at most 2 decimals; KWD has 3"}
    ]


def test_unknown_documents_and_profiles(api):
    assert (
        api.get("/invoices/693738682fa9114d9af87d29/ubl").json()["message"] == "Invoice not found"
    )
    response = api.get("/credit-notes/693738682fa9114d9af87d29/ubl")
    assert (response.status_code, response.json()["message"]) == (404, "Credit note not found")
    invoice = create_invoice(api, create_order(api)["id"])
    assert (
        api.get(f"/invoices/{invoice['id']}/ubl", params={"profile": "zugferd"}).status_code == 400
    )


def test_the_orders_delivery_address_is_copied_and_stated(api, seller, validator):
    lyon = {"street": "Rue de la République 1", "additionalStreet": "", "city": "Lyon",
            "postalCode": "69002", "countrySubdivision": "", "country": "FR"}  # fmt: skip
    buyer = {
        "name": "Acme SARL",
        "address": {
            "street": "Rue de Rivoli 1", "city": "Paris", "postalCode": "75001", "country": "FR"
        },
        "vatId": "FR12345678901",
        "electronicAddress": {"scheme": "0009", "id": "12345678900012"},
    }  # fmt: skip
    item = line("Widget", 2, 10, 0, taxCategory="K", exemptionReasonCode="VATEX-EU-IC")
    order = _order(api, customer=buyer, deliverTo=lyon, lineItems=[item])
    invoice = create_invoice(api, order["id"])
    assert invoice["deliverTo"] == lyon
    for path, syntax in (("ubl", "ubl"), ("cii", "cii")):
        response = api.get(f"/invoices/{invoice['id']}/{path}")
        validator.assert_valid(
            response.content, syntax=syntax, profile="peppol" if syntax == "ubl" else "en16931"
        )
        assert b"Lyon" in response.content and b"Paris" in response.content
    note = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"}).json()
    assert note["data"]["deliverTo"] == lyon
    response = api.get(f"/credit-notes/{note['data']['id']}/ubl")
    validator.assert_valid(response.content, syntax="ubl", profile="peppol")
    place = _xml(response).find("cac:Delivery/cac:DeliveryLocation/cac:Address", NS)
    assert place.findtext("cbc:CityName", namespaces=NS) == "Lyon"
