"""The data an invoice or a credit note document shows: the one place the PDF template's and the
email's data come from.

Plain, frozen data, pickled to the render process (invoicing.documents.worker). It is built from
the API's JSON of the document, parsed with exact decimals::

    InvoiceDocument.from_api(json.loads(text, parse_float=Decimal), locale="de_DE")

Money and quantities stay Decimals all the way: a binary float is refused, never rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from invoicing.documents.parties import BankAccount, Party, text

DocumentKind = Literal["invoice", "credit_note"]
INVOICE: DocumentKind = "invoice"
CREDIT_NOTE: DocumentKind = "credit_note"

ZERO = Decimal(0)

# UNCL5305 tax categories (EN 16931 BT-118/BT-151): what each means on paper.
TAX_CATEGORY_NAMES: Mapping[str, str] = {
    "S": "VAT",
    "Z": "Zero rated",
    "E": "Exempt from VAT",
    "AE": "Reverse charge",
    "K": "Intra-community supply, exempt from VAT",
    "G": "Export outside the EU, exempt from VAT",
    "O": "Not subject to VAT",
    "L": "IGIC (Canary Islands)",
    "M": "IPSI (Ceuta and Melilla)",
    "B": "Transferred VAT (Italy)",
}
# The categories whose tax is charged at a rate (printed "VAT 19 %"); the others are exempt or
# outside VAT and print their meaning and exemption reason instead.
CHARGED_CATEGORIES: Mapping[str, str] = {"S": "VAT", "L": "IGIC", "M": "IPSI", "B": "VAT"}
# A line's category, short, for the lines table (standard rate: nothing beside the rate).
TAX_CATEGORY_SHORT: Mapping[str, str] = {
    "Z": "zero rated",
    "E": "exempt",
    "AE": "reverse charge",
    "K": "intra-EU",
    "G": "export",
    "O": "not subject",
    "L": "IGIC",
    "M": "IPSI",
    "B": "transferred",
}

# UN/ECE Recommendation 20 unit codes (BT-130), short, as printed after a quantity: (one, many).
# C62 ("one"), H87 ("piece") and EA ("each") print nothing; an unknown code prints as itself.
UNIT_LABELS: Mapping[str, tuple[str, str]] = {
    "C62": ("", ""),
    "H87": ("", ""),
    "EA": ("", ""),
    "HUR": ("h", "h"),
    "MIN": ("min", "min"),
    "DAY": ("day", "days"),
    "WEE": ("week", "weeks"),
    "MON": ("month", "months"),
    "ANN": ("year", "years"),
    "KGM": ("kg", "kg"),
    "GRM": ("g", "g"),
    "TNE": ("t", "t"),
    "MTR": ("m", "m"),
    "KMT": ("km", "km"),
    "MTK": ("m²", "m²"),
    "MTQ": ("m³", "m³"),
    "LTR": ("l", "l"),
    "KWH": ("kWh", "kWh"),
}


def _decimal(value: Any, name: str) -> Decimal:
    """An exact number: a Decimal, an int or decimal text. A float has lost digits already."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    if isinstance(value, float):
        raise TypeError(
            f"{name} is a float: parse the document with json.loads(..., parse_float=Decimal)"
        )
    raise TypeError(f"{name} must be a number, not {value!r}")


def _optional_decimal(value: Any, name: str) -> Decimal:
    return ZERO if value is None or value == "" else _decimal(value, name)


def _date(value: Any) -> date | None:
    """An ISO date ("2026-03-01"; a date, or a full timestamp) as a date; None when not set."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return _timestamp(text).date()


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        parsed = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class DocumentLine:
    name: str
    sku: str | None
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount: Decimal  # net
    unit_code: str = "C62"
    tax_category: str = "S"
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None

    @property
    def unit_label(self) -> str:
        one, many = UNIT_LABELS.get(self.unit_code, (self.unit_code, self.unit_code))
        return one if self.quantity == 1 else many

    @property
    def category_short(self) -> str:
        """The category beside the rate in the lines table; "" for the standard rate."""
        if self.tax_category == "S":
            return ""
        return TAX_CATEGORY_SHORT.get(self.tax_category, self.tax_category)


@dataclass(frozen=True, slots=True)
class DocumentTax:
    """One row of the tax breakdown: a (category, rate) group, its taxable sum and its tax."""

    category: str
    rate: Decimal
    taxable: Decimal
    amount: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None

    @property
    def charged(self) -> bool:
        """Tax charged at a rate ("VAT 19 %"); False for exempt and out-of-scope groups."""
        return self.category in CHARGED_CATEGORIES

    @property
    def tax_name(self) -> str:
        """The tax's name ("VAT") for a charged group, else what the category means."""
        if self.charged:
            return CHARGED_CATEGORIES[self.category]
        return TAX_CATEGORY_NAMES.get(self.category, f"Tax category {self.category}")

    @property
    def exemption(self) -> str | None:
        """The exemption reason and its code, e.g. "Tax-exempt medical care (VATEX-EU-132-1B)"."""
        if self.exemption_reason and self.exemption_reason_code:
            return f"{self.exemption_reason} ({self.exemption_reason_code})"
        return self.exemption_reason or self.exemption_reason_code


@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceDocument:
    """An invoice or a credit note (`kind`), everything its PDF and its email state."""

    kind: DocumentKind
    number: str
    issue_date: date
    currency: str
    locale: str
    seller: Party
    customer: Party
    lines: tuple[DocumentLine, ...]
    taxes: tuple[DocumentTax, ...]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    # What is left to pay: the invoice's total less credit notes and payments; 0 on a credit note.
    amount_due: Decimal
    paid_total: Decimal = ZERO
    credited_total: Decimal = ZERO
    due_date: date | None = None  # invoices
    delivery_date: date | None = None  # invoices: the date of supply
    order_id: str | None = None
    invoice_number: str | None = None  # credit notes: the invoice they correct
    reason: str | None = None  # credit notes
    bank_account: BankAccount | None = None  # the seller's, for the payment instructions
    created_at: datetime | None = None  # when the document was made (the PDF's timestamps)
    # The document's CII (EN 16931), when its data is complete: the PDF is then a Factur-X
    # PDF/A-3b with these exact bytes embedded as factur-x.xml; None gives a plain PDF.
    factur_x: bytes | None = None

    @property
    def is_credit_note(self) -> bool:
        return self.kind == CREDIT_NOTE

    @property
    def title(self) -> str:
        return "Credit note" if self.is_credit_note else "Invoice"

    @property
    def customer_email(self) -> str | None:
        return self.customer.email

    @property
    def shows_delivery_date(self) -> bool:
        return self.delivery_date is not None and self.delivery_date != self.issue_date

    @property
    def has_settlements(self) -> bool:
        """Payments or credit notes were booked against the invoice: show what is left."""
        return not self.is_credit_note and bool(self.paid_total or self.credited_total)

    @property
    def timestamp(self) -> datetime:
        """When the document was made (UTC): the PDF's creation date, the same on every render."""
        if self.created_at is not None:
            return self.created_at
        return datetime(
            self.issue_date.year, self.issue_date.month, self.issue_date.day, tzinfo=UTC
        )

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, locale: str) -> InvoiceDocument:
        """The document of an invoice or a credit note as the API shows it (GET /invoices/{id},
        GET /credit-notes/{id}), parsed with exact decimals. A credit note has an "invoice"."""
        credit_note = "invoice" in data
        lines = tuple(_line(item) for item in data.get("lineItems") or ())
        taxes = tuple(_tax(group, lines) for group in data.get("taxes") or ())
        issue_date = _date(data.get("issueDate"))
        created_at = _timestamp(data["createdAt"]) if data.get("createdAt") else None
        if issue_date is None:
            if created_at is None:
                raise ValueError("The document has no issueDate")
            issue_date = created_at.date()
        seller = data.get("seller") or {}
        total = _decimal(data["total"], "total")
        common: dict[str, Any] = {
            "number": text(data.get("number")) or str(data.get("entityId") or ""),
            "issue_date": issue_date,
            "currency": str(data["currency"]),
            "locale": locale,
            "seller": Party.from_api(seller),
            "customer": Party.from_api(data.get("customer")),
            "lines": lines,
            "taxes": taxes,
            "subtotal": _decimal(data["subtotal"], "subtotal"),
            "tax_total": _decimal(data["taxTotal"], "taxTotal"),
            "total": total,
            "order_id": text(data.get("order")),
            "created_at": created_at,
        }
        if credit_note:
            return cls(
                kind=CREDIT_NOTE,
                amount_due=ZERO,
                invoice_number=text(data.get("invoiceNumber")),
                reason=text(data.get("reason")),
                **common,
            )
        paid = _optional_decimal(data.get("paidTotal"), "paidTotal")
        credited = _optional_decimal(data.get("creditedTotal"), "creditedTotal")
        due = data.get("amountDue")
        return cls(
            kind=INVOICE,
            paid_total=paid,
            credited_total=credited,
            amount_due=total - credited - paid if due is None else _decimal(due, "amountDue"),
            due_date=_date(data.get("dueDate")),
            delivery_date=_date(data.get("deliveryDate")),
            bank_account=BankAccount.from_api(seller.get("bankAccount")),
            **common,
        )


def _line(item: Mapping[str, Any]) -> DocumentLine:
    return DocumentLine(
        name=str(item.get("name") or ""),
        sku=text(item.get("sku")),
        quantity=_decimal(item["quantity"], "quantity"),
        unit_price=_decimal(item["unitPrice"], "unitPrice"),
        tax_rate=_optional_decimal(item.get("taxRate"), "taxRate"),
        amount=_decimal(item["amount"], "amount"),
        unit_code=text(item.get("unitCode")) or "C62",
        tax_category=text(item.get("taxCategory")) or "S",
        exemption_reason=text(item.get("exemptionReason")),
        exemption_reason_code=text(item.get("exemptionReasonCode")),
    )


def _tax(group: Mapping[str, Any], lines: tuple[DocumentLine, ...]) -> DocumentTax:
    category = text(group.get("category")) or "S"
    rate = _optional_decimal(group.get("rate"), "rate")
    reason = text(group.get("exemptionReason"))
    code = text(group.get("exemptionReasonCode"))
    if reason is None and code is None:
        # Older breakdowns carry no reason: the group's lines do.
        for line in lines:
            if (line.tax_category, line.tax_rate) == (category, rate) and (
                line.exemption_reason or line.exemption_reason_code
            ):
                reason, code = line.exemption_reason, line.exemption_reason_code
                break
    return DocumentTax(
        category=category,
        rate=rate,
        taxable=_decimal(group["taxable"], "taxable"),
        amount=_decimal(group["amount"], "amount"),
        exemption_reason=reason,
        exemption_reason_code=code,
    )
