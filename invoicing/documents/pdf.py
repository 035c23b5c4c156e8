"""Render an InvoiceDocument to PDF bytes with Jinja2 + WeasyPrint."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML

from invoicing.documents.model import InvoiceDocument

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEMPLATE = _env.get_template("invoice.html")


class _Formatter:
    """Locale- and currency-bound formatting helpers handed to the template."""

    def __init__(self, doc: InvoiceDocument) -> None:
        self.locale = doc.locale
        self.currency = doc.currency

    def money(self, amount: Decimal) -> str:
        """An amount rounded to the currency's minor unit (the API already rounds them)."""
        return format_currency(amount, self.currency, locale=self.locale)

    def price(self, amount: Decimal) -> str:
        """A unit price: at least the currency's digits, but never hides extra precision."""
        return format_currency(
            amount, self.currency, locale=self.locale, decimal_quantization=False
        )

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value, locale=self.locale, decimal_quantization=False)

    def percent(self, rate: Decimal) -> str:
        return format_percent(rate / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: datetime) -> str:
        return format_date(value.date(), format="long", locale=self.locale)


def render_invoice_html(doc: InvoiceDocument) -> str:
    """The HTML the PDF is made from (handy for debugging the template)."""
    issued = doc.issued_datetime
    return _TEMPLATE.render(
        doc=doc,
        fmt=_Formatter(doc),
        issued=issued,
        # A fixed, content-derived timestamp keeps the PDF output deterministic.
        pdf_timestamp=issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
        lang=doc.locale.replace("_", "-"),
    )


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """Render the invoice as PDF. Pure: the same document always gives the same bytes.

    CPU-bound (tens to hundreds of milliseconds); call it from a worker thread in async code.
    """
    html = HTML(string=render_invoice_html(doc), base_url=str(TEMPLATES_DIR))
    pdf: bytes = html.write_pdf()
    return pdf
