from __future__ import annotations

import copy
import dataclasses
import io
import json
import pickle
import re
from decimal import Decimal
from typing import Any

import pytest
from babel.numbers import format_currency
from pypdf import PdfReader
from weasyprint import HTML

from invoicing.documents.model import InvoiceDocument
from invoicing.documents.parties import BankAccount
from invoicing.documents.pdf import (
    _STYLESHEET,
    TEMPLATES_DIR,
    _breakable,
    _InvoiceHTML,
    render_invoice_html,
    render_invoice_pdf,
)

D = Decimal

# A German seller with everything the profile holds, and a German business customer.
SELLER: dict[str, Any] = {
    "name": "Northwind Trading",
    "legalName": "Northwind Handelsgesellschaft mbH",
    "address": {
        "street": "Friedrichstraße 123",
        "additionalStreet": "",
        "city": "Berlin",
        "postalCode": "10117",
        "countrySubdivision": "",
        "country": "DE",
    },
    "vatId": "DE123456789",
    "taxRegistrationId": "27/123/45678",
    "legalRegistrationId": "HRB 123456 B, Amtsgericht Charlottenburg",
    "email": "billing@northwind.example",
    "phone": "+49 30 1234567",
    "contact": None,
    "electronicAddress": {"scheme": "9930", "id": "DE123456789"},
    "bankAccount": {
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "accountName": "Northwind Handelsgesellschaft mbH",
    },
    "paymentTermsDays": 30,
    "updatedAt": "2026-01-10T09:00:00.000Z",
}
CUSTOMER: dict[str, Any] = {
    "name": "Acme Industriebedarf GmbH",
    "email": "ap@acme.example",
    "address": {
        "street": "Hauptstraße 12",
        "additionalStreet": "Gebäude C",
        "city": "München",
        "postalCode": "80331",
        "countrySubdivision": "",
        "country": "DE",
    },
    "vatId": "DE987654321",
    "legalRegistrationId": None,
    "buyerReference": "PO-4711",
    "electronicAddress": None,
    "contact": {"name": "Eva Schmidt", "phone": "", "email": ""},
}
EXEMPTION = "Vocational training, exempt under § 4 Nr. 21 UStG"


def _item(
    name: str,
    quantity: str,
    unit_price: str,
    amount: str,
    rate: str = "19",
    category: str = "S",
    *,
    unit: str = "C62",
    sku: str | None = None,
    reason: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {
        "id": f"line-{name}",
        "lineItemId": f"order-line-{name}",
        "quantity": D(quantity),
        "name": name,
        "sku": sku,
        "unitCode": unit,
        "unitPrice": D(unit_price),
        "taxCategory": category,
        "taxRate": D(rate),
        "exemptionReason": reason,
        "exemptionReasonCode": code,
        "amount": D(amount),
    }


def _tax(
    category: str,
    rate: str,
    taxable: str,
    amount: str,
    reason: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    return {
        "category": category,
        "rate": D(rate),
        "taxable": D(taxable),
        "amount": D(amount),
        "exemptionReason": reason,
        "exemptionReasonCode": code,
    }


def sample_invoice() -> dict[str, Any]:
    """A complete invoice as GET /invoices/{id} shows it: two VAT rates, an exempt line with its
    reason, a payment (docs/sample-invoice.png)."""
    return {
        "id": "69a5c1e02fa9114d9af87d29",
        "_id": "69a5c1e02fa9114d9af87d29",
        "order": "6932f96b8cd64c28a4fb5873",
        "entityId": "42",
        "number": "INV-2026-00042",
        "currency": "EUR",
        "issueDate": "2026-03-02",
        "dueDate": "2026-04-01",
        "deliveryDate": "2026-02-27",
        "lineItems": [
            _item("Widget, anodised aluminium", "30", "19.99", "599.70", sku="W-1"),
            _item(
                "Installation and on-site configuration of the widget assembly",
                "6.5",
                "85.00",
                "552.50",
                unit="HUR",
                sku="SVC-INSTALL",
            ),
            _item("Technical handbook (print)", "2", "24.50", "49.00", "7", sku="BK-7"),
            _item(
                "Safety training course",
                "1",
                "480.00",
                "480.00",
                "0",
                "E",
                unit="DAY",
                reason=EXEMPTION,
                code="VATEX-EU-132-1I",
            ),
        ],
        "subtotal": D("1681.20"),
        "taxes": [
            _tax("E", "0", "480.00", "0.00", EXEMPTION, "VATEX-EU-132-1I"),
            _tax("S", "7", "49.00", "3.43"),
            _tax("S", "19", "1152.20", "218.92"),
        ],
        "taxTotal": D("222.35"),
        "total": D("1903.55"),
        "seller": copy.deepcopy(SELLER),
        "customer": copy.deepcopy(CUSTOMER),
        "payments": [
            {
                "id": "pay-1",
                "amount": D("500.00"),
                "currency": "EUR",
                "paidAt": "2026-03-10",
                "method": "bank_transfer",
                "reference": "INV-2026-00042",
            }
        ],
        "paidTotal": D("500.00"),
        "creditedTotal": D("0"),
        "amountDue": D("1403.55"),
        "status": "partially_paid",
        "overdue": False,
        "metaFields": {},
        "mailsSent": [],
        "createdBy": {"id": "tok_1", "name": "billing"},
        "createdAt": "2026-03-02T10:15:00.000Z",
        "updatedAt": "2026-03-10T08:00:00.000Z",
    }


def sample_credit_note() -> dict[str, Any]:
    """A credit note as GET /credit-notes/{id} shows it (docs/sample-credit-note.png)."""
    return {
        "id": "69b0a1e02fa9114d9af87e11",
        "_id": "69b0a1e02fa9114d9af87e11",
        "invoice": "69a5c1e02fa9114d9af87d29",
        "invoiceNumber": "INV-2026-00042",
        "order": "6932f96b8cd64c28a4fb5873",
        "number": "CN-2026-00007",
        "entityId": "7",
        "currency": "EUR",
        "issueDate": "2026-03-12",
        "reason": "Two widgets returned: damaged in transit",
        "lineItems": [
            {
                **_item("Widget, anodised aluminium", "2", "19.99", "39.98", sku="W-1"),
                "invoiceLineId": "line-Widget",
            }
        ],
        "subtotal": D("39.98"),
        "taxes": [_tax("S", "19", "39.98", "7.60")],
        "taxTotal": D("7.60"),
        "total": D("47.58"),
        "seller": copy.deepcopy(SELLER),
        "customer": copy.deepcopy(CUSTOMER),
        "metaFields": {},
        "mailsSent": [],
        "createdBy": {"id": "tok_1", "name": "billing"},
        "createdAt": "2026-03-12T14:00:00.000Z",
        "updatedAt": "2026-03-12T14:00:00.000Z",
    }


def simple_invoice(lines: int = 1, currency: str = "USD", **overrides: Any) -> dict[str, Any]:
    """One standard-rated group (8.25 %), no payments: `lines` times 30 widgets at 19.99."""
    invoice = sample_invoice()
    amount = D("599.70") * lines
    tax = D("49.48") * lines
    invoice.update(
        number="17",
        currency=currency,
        deliveryDate=invoice["issueDate"],
        lineItems=[
            _item(f"Widget {i}", "30", "19.99", "599.70", "8.25", sku="W-1")
            for i in range(1, lines + 1)
        ],
        subtotal=amount,
        taxes=[_tax("S", "8.25", str(amount), str(tax))],
        taxTotal=tax,
        total=amount + tax,
        payments=[],
        paidTotal=D(0),
        creditedTotal=D(0),
        amountDue=amount + tax,
        status="open",
    )
    invoice.update(overrides)
    return invoice


def _doc(data: dict[str, Any], locale: str = "en_US", **customer: Any) -> InvoiceDocument:
    data = copy.deepcopy(data)
    data["customer"].update(customer)
    return InvoiceDocument.from_api(data, locale=locale)


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _text(doc: InvoiceDocument) -> str:
    """The PDF's text, no-break spaces as plain ones."""
    return "\n".join(_pages(render_invoice_pdf(doc))).replace("\xa0", " ")


# The model.


def test_from_api_keeps_numbers_exact() -> None:
    parsed = json.loads(_exact_json(sample_invoice()), parse_float=Decimal)
    doc = InvoiceDocument.from_api(parsed, locale="en_US")
    assert doc.kind == "invoice" and not doc.is_credit_note
    assert doc.total == D("1903.55") and doc.amount_due == D("1403.55")
    assert doc.paid_total == D("500.00") and doc.credited_total == 0
    assert doc.lines[0].unit_price == D("19.99") and doc.lines[1].quantity == D("6.5")
    assert doc.lines[1].unit_code == "HUR" and doc.lines[3].tax_category == "E"
    assert [(t.category, t.rate, t.amount) for t in doc.taxes] == [
        ("E", D(0), D("0.00")),
        ("S", D(7), D("3.43")),
        ("S", D(19), D("218.92")),
    ]
    assert doc.taxes[0].exemption_reason_code == "VATEX-EU-132-1I"
    assert str(doc.due_date) == "2026-04-01" and str(doc.delivery_date) == "2026-02-27"
    assert doc.bank_account is not None and doc.bank_account.bic == "COBADEFFXXX"
    assert doc.seller.vat_id == "DE123456789" and doc.customer.buyer_reference == "PO-4711"
    assert doc.number == "INV-2026-00042" and doc.order_id == "6932f96b8cd64c28a4fb5873"


def _exact_json(data: dict[str, Any]) -> str:
    """JSON text with every Decimal written as the exact number it is (as the API does)."""

    def convert(value: Any) -> Any:
        if isinstance(value, Decimal):
            return _Marker(str(value))
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    text = json.dumps(convert(data), default=lambda m: f"@@{m.text}@@")
    return text.replace('"@@', "").replace('@@"', "")


class _Marker:
    def __init__(self, text: str) -> None:
        self.text = text


def test_from_api_refuses_floats() -> None:
    data = json.loads(_exact_json(sample_invoice()))  # without parse_float=Decimal
    with pytest.raises(TypeError, match="parse_float=Decimal"):
        InvoiceDocument.from_api(data, locale="en_US")


def test_from_api_tells_a_credit_note_by_its_invoice() -> None:
    doc = _doc(sample_credit_note())
    assert doc.kind == "credit_note" and doc.is_credit_note and doc.title == "Credit note"
    assert doc.invoice_number == "INV-2026-00042"
    assert doc.reason == "Two widgets returned: damaged in transit"
    assert doc.amount_due == 0 and doc.due_date is None and doc.bank_account is None
    assert doc.total == D("47.58")
    invoice = _doc(sample_invoice())
    assert invoice.kind == "invoice" and invoice.title == "Invoice"


def test_document_is_frozen_and_survives_pickling() -> None:
    for doc in (_doc(sample_invoice()), _doc(sample_credit_note())):
        copy_ = pickle.loads(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))
        assert copy_ == doc and render_invoice_html(copy_) == render_invoice_html(doc)
        with pytest.raises(dataclasses.FrozenInstanceError):
            doc.number = "other"  # type: ignore[misc]


def test_free_text_and_missing_addresses() -> None:
    data = sample_invoice()
    data["seller"]["address"] = "Friedrichstraße 123\n10117 Berlin"
    data["customer"]["address"] = None
    doc = InvoiceDocument.from_api(data, locale="en_US")
    assert doc.seller.address_lines("en_US") == ("Friedrichstraße 123", "10117 Berlin")
    assert doc.customer.address_lines("en_US") == ()
    text = _text(doc)
    assert "Friedrichstraße 123\n10117 Berlin" in text


# What the PDF states.


def test_invoice_states_seller_customer_dates_and_payment_details() -> None:
    text = _text(_doc(sample_invoice()))
    # The seller, with its ids.
    assert "Northwind Trading" in text and "Northwind Handelsgesellschaft mbH" in text
    assert "Friedrichstraße 123\n10117 Berlin\nGermany" in text
    assert "Germany\nVAT ID DE123456789\nTax number 27/123/45678" in text
    assert "HRB 123456 B, Amtsgericht Charlottenburg" in text
    assert "billing@northwind.example · +49 30 1234567" in text
    # The customer: postal address with its country, VAT id, reference, contact.
    assert "Hauptstraße 12\nGebäude C\n80331 München\nGermany" in text
    assert "VAT ID DE987654321" in text
    assert "Your reference: PO-4711" in text and "Eva Schmidt" in text
    # Dates.
    assert "Issue date March 2, 2026" in text
    assert "Due date April 1, 2026" in text
    assert "Date of supply February 27, 2026" in text
    # Totals with the payment, and how to pay what is left.
    assert "Paid -€500.00" in text and "Amount due €1,403.55" in text
    assert "Please pay €1,403.55 by April 1, 2026 to" in text
    assert "IBAN DE89 3704 0044 0532 0130 00" in text
    assert "BIC COBADEFFXXX" in text
    assert "Account holder Northwind Handelsgesellschaft mbH" in " ".join(text.split())
    assert "Reference INV-2026-00042" in text
    assert "Credited" not in text  # nothing was


def test_customer_country_is_named_in_the_documents_locale() -> None:
    address = dict(CUSTOMER["address"], city="Wien", postalCode="1010", country="AT")
    english = _text(_doc(sample_invoice(), address=address))
    assert "1010 Wien\nAustria" in english
    german = _text(_doc(sample_invoice(), locale="de_DE", address=address))
    assert "1010 Wien\nÖsterreich" in german and "Austria" not in german


def test_delivery_date_is_printed_only_when_it_differs_from_the_issue_date() -> None:
    same = sample_invoice()
    same["deliveryDate"] = same["issueDate"]
    assert "Date of supply" not in _text(_doc(same))
    assert "Date of supply February 27, 2026" in _text(_doc(sample_invoice()))


def test_one_tax_group_is_printed_once() -> None:
    text = _text(_doc(simple_invoice()))
    assert text.count("VAT 8.25% on $599.70") == 1
    assert text.count("$49.48") == 1  # the tax: no separate "Tax" row repeating it
    assert "Total VAT" not in text
    assert "0%" not in text  # no 0 % line on a document with only standard-rated lines
    assert "Total $649.18" in text


def test_each_tax_group_has_one_row_and_exempt_ones_say_why() -> None:
    text = _text(_doc(sample_invoice()))
    assert text.count("VAT 7% on €49.00 €3.43") == 1
    assert text.count("VAT 19% on €1,152.20 €218.92") == 1
    assert text.count("Exempt from VAT (E) on €480.00") == 1
    assert f"{EXEMPTION} (VATEX-EU-132-1I)" in " ".join(text.split())
    assert "VAT 0%" not in text
    assert "Total VAT €222.35" in text and "Total €1,903.55" in text


def test_reverse_charge_is_named_with_its_code() -> None:
    invoice = simple_invoice(
        currency="EUR",
        lineItems=[_item("Consulting", "10", "100", "1000", "0", "AE", unit="HUR")],
        subtotal=D("1000"),
        taxes=[_tax("AE", "0", "1000.00", "0.00", None, "VATEX-EU-AE")],
        taxTotal=D("0.00"),
        total=D("1000.00"),
        amountDue=D("1000.00"),
    )
    text = _text(_doc(invoice))
    assert "Reverse charge (AE) on €1,000.00\nVATEX-EU-AE\n€0.00" in text
    assert "reverse charge" in text  # the line's category, in the lines table
    assert "10 h" in text
    assert "VAT 0%" not in text


def test_lines_show_quantity_units() -> None:
    text = _text(_doc(sample_invoice()))
    assert "6.5 h" in text and "1 day" in text and "1 days" not in text
    assert "C62" not in text and "HUR" not in text
    assert "SKU SVC-INSTALL" in text
    invoice = sample_invoice()
    invoice["lineItems"][3].update(quantity=D(3), unitCode="XPP")
    text = _text(_doc(invoice))
    assert "3 XPP" in text


def test_credit_note_names_the_invoice_it_corrects_and_why() -> None:
    text = _text(_doc(sample_credit_note()))
    assert "Credit note" in text and "Invoice\n" not in text
    assert "No. CN-2026-00007" in text
    assert "Credit note for invoice INV-2026-00042" in text
    assert "Reason: Two widgets returned: damaged in transit" in text
    assert "VAT 19% on €39.98 €7.60" in text and "Total €47.58" in text
    assert "VAT ID DE123456789" in text and "VAT ID DE987654321" in text
    # Nothing to pay on it, though the seller has a bank account.
    assert "Please pay" not in text and "IBAN" not in text and "Due date" not in text
    account = BankAccount("DE89370400440532013000", "COBADEFFXXX", "Northwind")
    text = _text(dataclasses.replace(_doc(sample_credit_note()), bank_account=account))
    assert "Please pay" not in text and "IBAN" not in text and "Nothing is left to pay" not in text


def test_no_payment_instructions_without_a_bank_account() -> None:
    invoice = sample_invoice()
    invoice["seller"]["bankAccount"] = None
    text = _text(_doc(invoice))
    assert "Please pay" not in text and "IBAN" not in text
    assert "Due date April 1, 2026" in text and "Amount due €1,403.55" in text


def test_a_settled_invoice_asks_for_nothing() -> None:
    invoice = sample_invoice()
    invoice.update(paidTotal=D("1903.55"), amountDue=D("0.00"), status="paid")
    text = _text(_doc(invoice))
    assert "Please pay" not in text and "Nothing is left to pay" in text
    assert "Amount due €0.00" in text


def test_credited_invoice_shows_what_is_left() -> None:
    invoice = sample_invoice()
    invoice.update(creditedTotal=D("47.58"), amountDue=D("1355.97"))
    text = _text(_doc(invoice))
    assert "Credited -€47.58\nPaid -€500.00\nAmount due €1,355.97" in text
    assert "Please pay €1,355.97" in text


def test_the_given_seller_replaces_any_placeholder() -> None:
    for doc in (_doc(sample_invoice()), _doc(sample_credit_note())):
        text, html = _text(doc), render_invoice_html(doc)
        assert "Your Company" not in text and "Your Company" not in html
        assert text.count("Northwind Trading") >= 2  # the masthead and the page footer


def test_kwd_keeps_three_decimals() -> None:
    invoice = simple_invoice(
        currency="KWD",
        lineItems=[_item("Filter", "3", "4.125", "12.375", "5")],
        subtotal=D("12.375"),
        taxes=[_tax("S", "5", "12.375", "0.619")],
        taxTotal=D("0.619"),
        total=D("12.994"),
        amountDue=D("12.994"),
    )
    text = _text(_doc(invoice)).replace(" ", "")  # Babel: "KWD12.375" in en_US
    assert "KWD4.125" in text and "KWD12.375" in text
    assert "KWD0.619" in text and "KWD12.994" in text
    assert "KWD12.99\n" not in text and "KWD12.38" not in text and "KWD0.62\n" not in text


def test_jpy_has_no_decimals() -> None:
    invoice = simple_invoice(
        currency="JPY",
        lineItems=[_item("Tea", "1", "1235", "1235", "10")],
        subtotal=D(1235),
        taxes=[_tax("S", "10", "1235", "124")],
        taxTotal=D(124),
        total=D(1359),
        amountDue=D(1359),
    )
    text = _text(_doc(invoice))
    assert "¥1,235" in text and "¥1,359" in text
    assert "¥1,359.00" not in text


def test_eur_in_german_locale() -> None:
    invoice = simple_invoice(
        currency="EUR",
        lineItems=[_item("Beratung", "2.5", "493.8", "1234.5")],
        subtotal=D("1234.5"),
        taxes=[_tax("S", "19", "1234.5", "234.56")],
        taxTotal=D("234.56"),
        total=D("1469.06"),
        amountDue=D("1469.06"),
    )
    doc = _doc(invoice, locale="de_DE")
    expected = format_currency(D("1234.50"), "EUR", locale="de_DE")
    assert expected == "1.234,50\xa0€"  # Babel uses a no-break space before the sign
    html = render_invoice_html(doc)
    assert "1.234,50\xa0€" in html and "1.469,06\xa0€" in html and "2. März 2026" in html
    text = _text(doc)
    assert "1.234,50 €" in text and "1.469,06 €" in text and "2,5 h" not in text
    assert "2,5" in text and "VAT 19 % on 1.234,50 €" in text
    assert "Deutschland" in text


def test_long_invoice_repeats_header_on_every_page() -> None:
    pages = _pages(render_invoice_pdf(_doc(simple_invoice(lines=500))))
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert "UNIT PRICE" in text  # the "Unit price" header, upper-cased by CSS
        assert f"Page {number} of {len(pages)}" in text
    assert "Widget 500" in pages[-1]
    assert "$324,590.00" in pages[-1]  # total of 500 x 649.18


def test_customer_markup_is_shown_literally() -> None:
    doc = _doc(simple_invoice(), name="<script>alert(1)</script> & Co", address="<b>bold</b>")
    html = render_invoice_html(doc)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<b>bold</b>" not in html
    text = _text(doc)
    assert "<script>alert(1)</script> & Co" in text
    assert "<b>bold</b>" in text


def test_rendering_is_deterministic() -> None:
    doc = _doc(simple_invoice(lines=3))
    first, second = render_invoice_pdf(doc), render_invoice_pdf(doc)
    assert _pages(first) == _pages(second)
    assert first == second
    info = PdfReader(io.BytesIO(first)).metadata
    assert info is not None and str(info["/CreationDate"]).startswith("D:20260302101500")
    assert info.title == "Invoice 17"


def test_customer_address_longer_than_a_page_flows_onto_the_next_pages() -> None:
    # Older documents may hold up to 1000 characters of free-text address: the most lines that
    # fit in them must all be printed, page after page, none cut off.
    address = "\n".join(f"L{i:03d}" for i in range(1, 201))
    assert len(address) == 999
    pages = _pages(render_invoice_pdf(_doc(simple_invoice(), address=address)))
    assert len(pages) > 3
    words = "\n".join(pages).split()
    assert [w for w in words if w.startswith("L") and w[1:].isdigit()] == address.split("\n")
    assert words.count("DETAILS") == 1 and "Invoice number" in pages[0]
    assert "$649.18" in pages[-1]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_customer_address_keeps_its_line_breaks_and_wraps_long_lines() -> None:
    address = "Hinterhof, 3. Etage\nMain St 1\n" + "W" * 100 + "\n10115 Berlin"
    text = _text(_doc(simple_invoice(), address=address))
    assert "Hinterhof, 3. Etage\nMain St 1\n" in text and "\n10115 Berlin" in text
    assert "W" * 100 in "".join(text.split())


# Long unbroken words (issue 15: they made up most of a long invoice's render time).


def test_only_words_wider_than_the_description_column_get_break_opportunities() -> None:
    assert _breakable("Widget, anodised aluminium", 8.5) == "Widget, anodised aluminium"
    assert _breakable("i" * 80 + " x", 8.5) == "i" * 80 + " x"  # narrow: fits on a line
    broken = _breakable("Widget " + "W" * 30 + " blue", 8.5)
    assert broken == "Widget " + "\u200b".join("W" * 30) + " blue"
    assert _breakable("W" * 26, 8.5) != "W" * 26 and _breakable("W" * 26, 7) == "W" * 26
    # None after an "f": HarfBuzz would make a ligature across it, and lose its text.
    assert _breakable("affix" * 10, 8.5).count("f\u200b") == 0
    # Combining marks stay with their letter: such words are left as they are.
    assert _breakable("e\u0301" * 40, 8.5) == "e\u0301" * 40


def test_long_unbroken_names_wrap_inside_their_column_and_keep_their_text() -> None:
    name = "Schifffahrtsgesellschaftsofficeflow" + "W" * 465
    items = [_item(name, "1", "19.99", "19.99", sku="S" * 100) for _ in range(3)]
    pages = _pages(render_invoice_pdf(_doc(simple_invoice(lineItems=items))))
    text = "\n".join(pages)
    assert "\u200b" not in text
    assert text.count("Schifffahrtsgesellschaftsofficeflow") == 3  # ligatures keep their text
    # Every character is there, and the names wrap in their column (24 W's to a line).
    w_runs = [len(run) for run in re.findall("W+", text)]
    assert sum(w_runs) == 3 * 465 and max(w_runs) <= 26
    s_runs = [len(run) for run in re.findall("S{3,}", text)]
    assert sum(s_runs) == 3 * 100 and max(s_runs) <= 50
    assert "Total $" in pages[-1]
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page


def test_the_trimmed_user_agent_stylesheet_changes_nothing() -> None:
    # pdf.py leaves WeasyPrint's rules for list markers, footnotes and notes out (the template
    # has none of them): the same bytes as with WeasyPrint's own stylesheet.
    doc = _doc(sample_invoice())
    html = render_invoice_html(doc, inline_stylesheet=False)
    ours = _InvoiceHTML(string=html, base_url=str(TEMPLATES_DIR))
    theirs = HTML(string=html, base_url=str(TEMPLATES_DIR))
    assert ours.write_pdf(stylesheets=[_STYLESHEET]) == theirs.write_pdf(stylesheets=[_STYLESHEET])
