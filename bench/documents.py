"""What building an issued document costs, in-process: the UBL and the CII of a 5-line invoice
(the issue's bar: <= 5 ms median each) and, beside them, rendering its PDF, plain and as Factur-X.

    python -m bench.documents            # also a section of `python -m bench`'s report
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson

from bench import rows
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pdf import render_invoice_pdf
from invoicing.einvoice.cii import build_cii
from invoicing.einvoice.requirements import missing
from invoicing.einvoice.ubl import build_ubl

D = Decimal
_PARTY_ADDRESS = {"additionalStreet": "", "countrySubdivision": ""}
# The profile the bench seeds (API.md's example), as an invoice's copy shows it.
_PROFILE = orjson.loads(rows.SELLER_BODY)
SELLER: dict[str, Any] = {
    **_PROFILE,
    "address": {**_PROFILE["address"], **_PARTY_ADDRESS},
    "updatedAt": None,
}
CUSTOMER: dict[str, Any] = {
    "name": "Acme GmbH", "email": "ap@acme.example",
    "address": {"street": "Main St 1", "city": "Hamburg", "postalCode": "20095",
                "country": "DE", **_PARTY_ADDRESS},
    "vatId": "DE987654321", "legalRegistrationId": None, "buyerReference": "PO-4711",
    "electronicAddress": {"scheme": "0204", "id": "04011000-12345-03"}, "contact": None,
}  # fmt: skip


def five_line_invoice() -> dict[str, Any]:
    """A 5-line invoice's API object, exact decimals, as `documents.delivery.load_data` gives."""
    lines = [
        {"id": f"{i:024x}", "lineItemId": f"{i + 10:024x}", "quantity": 3, "name": f"Item {i}",
         "sku": f"SKU-{i}", "unitCode": "C62", "unitPrice": D("19.99"), "taxCategory": "S",
         "taxRate": 19, "amount": D("59.97")}
        for i in range(5)
    ]  # fmt: skip
    return {
        "id": "6b0000000000000000000001", "_id": "6b0000000000000000000001",
        "order": "6b0000000000000000000002", "entityId": "1", "number": "INV-2026-00001",
        "currency": "EUR", "issueDate": "2026-03-02", "dueDate": "2026-04-01",
        "deliveryDate": "2026-03-02", "lineItems": lines, "subtotal": D("299.85"),
        "taxes": [{"category": "S", "rate": 19, "taxable": D("299.85"), "amount": D("56.97")}],
        "taxTotal": D("56.97"), "total": D("356.82"), "seller": SELLER, "customer": CUSTOMER,
        "payments": [], "paidTotal": 0, "creditedTotal": 0, "amountDue": D("356.82"),
        "status": "open", "overdue": False, "metaFields": [], "mailsSent": [],
        "createdBy": {"id": "6b0000000000000000000003", "name": "Bench", "type": "admin"},
        "createdAt": "2026-03-02T09:00:00.000Z", "updatedAt": "2026-03-02T09:00:00.000Z",
    }  # fmt: skip


def median_ms(work: Callable[[], object], runs: int) -> float:
    work()  # warm up (imports, compiled templates)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def section() -> str:
    data = five_line_invoice()
    assert not missing(data, "peppol") and not missing(data, "xrechnung")
    plain = InvoiceDocument.from_api(data, locale="en_US")
    factur_x = replace(plain, factur_x=build_cii(data, profile="en16931"))
    rows = [
        ("UBL, Peppol BIS 3", median_ms(lambda: build_ubl(data, profile="peppol"), 500)),
        ("UBL, XRechnung", median_ms(lambda: build_ubl(data, profile="xrechnung"), 500)),
        ("CII, EN 16931", median_ms(lambda: build_cii(data, profile="en16931"), 500)),
        ("PDF, plain", median_ms(lambda: render_invoice_pdf(plain), 20)),
        ("PDF, Factur-X (PDF/A-3b + CII)", median_ms(lambda: render_invoice_pdf(factur_x), 20)),
    ]
    table = "\n".join(f"| {name} | {ms:.2f} |" for name, ms in rows)
    return (
        "## Building one document (5-line invoice, in-process, median)\n\n"
        "Target: UBL and CII each <= 5 ms.\n\n| document | ms |\n|---|---|\n" + table + "\n"
    )


if __name__ == "__main__":
    print(section())
