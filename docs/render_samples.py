"""Render the sample pictures of this folder from the test suite's sample documents.

.venv/bin/python docs/render_samples.py      # needs pdftoppm (apt-get install poppler-utils)
"""

import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pdf import render_invoice_pdf
from tests.documents.test_pdf import sample_credit_note, sample_invoice

DOCS = Path(__file__).resolve().parent


def main() -> None:
    for name, data in (
        ("sample-invoice", sample_invoice()),
        ("sample-credit-note", sample_credit_note()),
    ):
        pdf = render_invoice_pdf(InvoiceDocument.from_api(data, locale="en_US"))
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / f"{name}.pdf"
            source.write_bytes(pdf)
            subprocess.run(
                ["pdftoppm", "-png", "-r", "80", "-singlefile", str(source), str(DOCS / name)],
                check=True,
            )
        print(f"docs/{name}.png")


if __name__ == "__main__":
    main()
