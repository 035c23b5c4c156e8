from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import orjson
from babel.numbers import format_currency
from pypdf import PdfReader

from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pdf import render_invoice_html, render_invoice_pdf

SELLER = {"seller_name": "Northwind Trading Co.", "seller_address": "400 Market St\nSan Francisco"}


def _invoice(lines: int = 1, currency: str = "USD", **overrides: Any) -> dict[str, Any]:
    amount = Decimal("599.7") * lines
    tax = Decimal("49.48") * lines
    invoice: dict[str, Any] = {
        "id": "693738682fa9114d9af87d29",
        "order": "6932f96b8cd64c28a4fb5873",
        "entityId": "17",
        "currency": currency,
        "lineItems": [
            {
                "name": f"Widget {i}",
                "sku": "W-1",
                "quantity": 30,
                "unitPrice": 19.99,
                "taxRate": 8.25,
                "amount": 599.7,
            }
            for i in range(1, lines + 1)
        ],
        "subtotal": float(amount),
        "taxes": [{"rate": 8.25, "taxable": float(amount), "amount": float(tax)}],
        "taxTotal": float(tax),
        "total": float(amount + tax),
        "createdAt": "2025-12-08T20:43:20.608Z",
    }
    invoice.update(overrides)
    return invoice


def _doc(invoice: dict[str, Any], locale: str = "en_US", **customer: Any) -> InvoiceDocument:
    """The document of `invoice` (shaped as the API shows it), through the stored rows' form."""
    cust = {"name": "Acme GmbH", "email": "billing@acme.example", "address": "Main St 1\nBerlin"}
    cust.update(customer)
    row = {
        "number": invoice["entityId"],
        "created_at": invoice["createdAt"],
        "order_id": invoice["order"],
        "currency": invoice["currency"],
        "subtotal": str(invoice["subtotal"]),
        "taxes": orjson.dumps(
            [{key: str(value) for key, value in tax.items()} for tax in invoice["taxes"]]
        ).decode(),
        "tax_total": str(invoice["taxTotal"]),
        "total": str(invoice["total"]),
    }
    lines = [
        {
            "name": item["name"],
            "sku": item.get("sku"),
            "quantity": str(item["quantity"]),
            "unit_price": str(item["unitPrice"]),
            "tax_rate": str(item.get("taxRate", 0)),
            "amount": str(item["amount"]),
        }
        for item in invoice["lineItems"]
    ]
    return InvoiceDocument.from_rows(row, lines, cust, locale=locale, **SELLER)


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_from_rows_keeps_numbers_exact() -> None:
    doc = _doc(_invoice())
    assert doc.total == Decimal("649.18")
    assert doc.lines[0].unit_price == Decimal("19.99")
    assert doc.lines[0].quantity == Decimal("30")
    assert doc.taxes[0].rate == Decimal("8.25")
    assert doc.number == "17" and doc.order_id == "6932f96b8cd64c28a4fb5873"


def test_pdf_contains_number_total_and_tax_breakdown() -> None:
    pdf = render_invoice_pdf(_doc(_invoice()))
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(_pages(pdf))
    assert "Invoice" in text and "17" in text
    assert "$649.18" in text
    assert "Tax 8.25% on $599.70" in text and "$49.48" in text
    assert "December 8, 2025" in text
    assert "6932f96b8cd64c28a4fb5873" in text
    assert "Page 1 of 1" in text


def test_long_invoice_repeats_header_on_every_page() -> None:
    pages = _pages(render_invoice_pdf(_doc(_invoice(lines=500))))
    assert len(pages) > 1
    for number, text in enumerate(pages, start=1):
        assert "UNIT PRICE" in text  # the "Unit price" header, upper-cased by CSS
        assert f"Page {number} of {len(pages)}" in text
    assert "Widget 500" in pages[-1]
    assert "$324,590.00" in pages[-1]  # total of 500 x 649.18


def test_jpy_has_no_decimals() -> None:
    invoice = _invoice(
        currency="JPY",
        lineItems=[
            {"name": "Tea", "quantity": 1, "unitPrice": 1235, "taxRate": 10, "amount": 1235}
        ],
        subtotal=1235,
        taxes=[{"rate": 10, "taxable": 1235, "amount": 124}],
        taxTotal=124,
        total=1359,
    )
    text = "\n".join(_pages(render_invoice_pdf(_doc(invoice))))
    assert "¥1,235" in text and "¥1,359" in text
    assert "¥1,359.00" not in text


def test_eur_in_german_locale() -> None:
    invoice = _invoice(
        currency="EUR",
        lineItems=[
            {
                "name": "Beratung",
                "quantity": 2.5,
                "unitPrice": 493.8,
                "taxRate": 19,
                "amount": 1234.5,
            }
        ],
        subtotal=1234.5,
        taxes=[{"rate": 19, "taxable": 1234.5, "amount": 234.56}],
        taxTotal=234.56,
        total=1469.06,
    )
    doc = _doc(invoice, locale="de_DE")
    expected = format_currency(Decimal("1234.50"), "EUR", locale="de_DE")
    assert expected == "1.234,50\xa0€"  # Babel uses a no-break space before the sign
    html = render_invoice_html(doc)
    assert "1.234,50\xa0€" in html and "1.469,06\xa0€" in html and "8. Dezember 2025" in html
    text = "\n".join(_pages(render_invoice_pdf(doc))).replace("\xa0", " ")
    assert "1.234,50 €" in text and "1.469,06 €" in text and "2,5" in text


def test_customer_markup_is_shown_literally() -> None:
    doc = _doc(_invoice(), name="<script>alert(1)</script> & Co", address="<b>bold</b>")
    html = render_invoice_html(doc)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "<b>bold</b>" not in html
    text = "\n".join(_pages(render_invoice_pdf(doc)))
    assert "<script>alert(1)</script> & Co" in text
    assert "<b>bold</b>" in text


def test_rendering_is_deterministic() -> None:
    doc = _doc(_invoice(lines=3))
    first, second = render_invoice_pdf(doc), render_invoice_pdf(doc)
    assert _pages(first) == _pages(second)
    assert first == second
    info = PdfReader(io.BytesIO(first)).metadata
    assert info is not None and str(info["/CreationDate"]).startswith("D:20251208204320")


def test_customer_address_longer_than_a_page_flows_onto_the_next_pages() -> None:
    # New orders allow 10 lines, but older ones may hold up to the column's 1000 characters:
    # the most lines that fit in them must all be printed, page after page, none cut off.
    address = "\n".join(f"L{i:03d}" for i in range(1, 201))
    assert len(address) == 999
    pages = _pages(render_invoice_pdf(_doc(_invoice(), address=address)))
    assert len(pages) > 3
    words = "\n".join(pages).split()
    assert [w for w in words if w.startswith("L") and w[1:].isdigit()] == address.split("\n")
    assert words.count("DETAILS") == 1 and "Invoice number" in pages[0]
    assert "$649.18" in pages[-1]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text


def test_customer_address_keeps_its_line_breaks_and_wraps_long_lines() -> None:
    address = "Hinterhof, 3. Etage\nMain St 1\n" + "W" * 100 + "\n10115 Berlin"
    text = "\n".join(_pages(render_invoice_pdf(_doc(_invoice(), address=address))))
    assert "Hinterhof, 3. Etage\nMain St 1\n" in text and "\n10115 Berlin" in text
    assert "W" * 100 in "".join(text.split())
