"""What rendering an invoice's PDF costs by its size, in-process (WeasyPrint, as the render
process does it): the median for 1, 5, 50 and 500 lines, and the slowest document the API allows,
500 lines with 500-character unbroken names and 100-character SKUs. Issue 15's targets: a
one-page invoice <= 100 ms, 500 lines <= 5 s.

    python -m bench.pdf_sizes            # the table (a few minutes on 2 cores)
    python -m bench.pdf_sizes --quick    # fewer runs
"""

import gc
import statistics
import sys
import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bench.documents import five_line_invoice
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pdf import render_invoice_pdf
from invoicing.einvoice.cii import build_cii

D = Decimal


def invoice(lines: int, name: str = "Item", sku: str = "SKU") -> dict[str, Any]:
    """The bench's 5-line invoice with `lines` lines (3 x 19.99 at 19 % each)."""
    data = five_line_invoice()
    items = [
        {**data["lineItems"][0], "id": f"{i:024x}", "lineItemId": f"{i + 1000:024x}",
         "name": name if len(name) > 20 else f"{name} {i}",
         "sku": sku if len(sku) > 20 else f"{sku}-{i}"}
        for i in range(lines)
    ]  # fmt: skip
    subtotal = D("59.97") * lines
    tax = (subtotal * D("0.19")).quantize(D("0.01"))
    return {
        **data, "lineItems": items, "subtotal": subtotal,
        "taxes": [{"category": "S", "rate": 19, "taxable": subtotal, "amount": tax}],
        "taxTotal": tax, "total": subtotal + tax, "amountDue": subtotal + tax,
    }  # fmt: skip


# (label, lines, name, sku, runs)
CASES = [
    ("1 line", 1, "Item", "SKU", 21),
    ("5 lines", 5, "Item", "SKU", 21),
    ("50 lines", 50, "Item", "SKU", 7),
    ("500 lines", 500, "Item", "SKU", 3),
    ("500 lines, 500-char names", 500, "W" * 500, "S" * 100, 3),
]


def _document(lines: int, name: str, sku: str, factur_x: bool) -> InvoiceDocument:
    data = invoice(lines, name, sku)
    doc = InvoiceDocument.from_api(data, locale="en_US")
    return replace(doc, factur_x=build_cii(data, profile="en16931")) if factur_x else doc


def _medians_ms(doc: InvoiceDocument, runs: int) -> tuple[float, float]:
    """(wall, CPU) medians of `runs` renders after a first one, in ms. The CPU time says more
    than the wall time on a busy machine."""
    render_invoice_pdf(doc)  # the document's first render: its CII, Babel's locale data
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        render_invoice_pdf(doc)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def section(quick: bool = False) -> str:
    gc.freeze()  # as the render process does once WeasyPrint is loaded (documents/worker.py)
    out = []
    for label, lines, name, sku, runs in CASES:
        runs = max(1, runs // 3) if quick else runs
        plain, _ = _medians_ms(_document(lines, name, sku, factur_x=False), runs)
        wall, cpu = _medians_ms(_document(lines, name, sku, factur_x=True), runs)
        out.append(f"| {label} | {plain:.0f} | {wall:.0f} | {cpu:.0f} |")
    return (
        "## PDF render time by size (in-process, median ms)\n\n"
        "Targets: one page <= 100 ms, 500 lines <= 5000 ms.\n\n"
        "| invoice | plain | Factur-X | Factur-X, CPU |\n|---|---|---|---|\n"
        + "\n".join(out)
        + "\n"
    )


if __name__ == "__main__":
    print(section(quick="--quick" in sys.argv))
