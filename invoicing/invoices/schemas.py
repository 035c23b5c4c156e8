from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field

from invoicing.orders.schemas import CustomerOut, DocumentLineTerms
from invoicing.payments.schemas import PaymentOut
from invoicing.seller.schemas import SellerOut
from invoicing.web.parties import PostalAddress
from invoicing.web.schemas import (
    EXACT,
    META_FIELDS,
    SAME_ID,
    Creator,
    Day,
    MetaField,
    MetaFields,
    Quantity,
    Strict,
    TaxOut,
)

# A calendar date as ISO 8601 text (`2026-03-01`), nothing else (no Unix times).
InvoiceStatus = Literal["open", "partially_paid", "paid", "credited"]


class InvoiceLineIn(Strict):
    """A quantity of one order line to invoice."""

    lineItemId: str = Field(
        min_length=1,
        max_length=100,
        description="The id of a line of the order (its lineItems[].id).",
        examples=["6932f96b8cd64c28a4fb5876"],
    )
    quantity: Quantity = Field(
        description=f"How much of it to invoice: above 0, at most what is left to invoice, at "
        f"most 3 decimals. {EXACT}"
    )


class InvoiceCreate(Strict):
    """The order to invoice, in whole (without `lineItems`) or in part."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"orderId": "69ab24db449866373d5e3e35"}]}
    )

    orderId: str = Field(
        min_length=1,
        description="Required: the id of the order to invoice.",
        examples=["69ab24db449866373d5e3e35"],
    )
    lineItems: list[InvoiceLineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Invoice only these quantities; without it, everything not yet invoiced.",
    )
    metaFields: MetaFields = Field(default=[], description=META_FIELDS)
    dueDate: Day | None = Field(
        default=None,
        description="YYYY-MM-DD, not before the issue date. Not together with paymentTermsDays.",
        examples=["2026-03-31"],
    )
    paymentTermsDays: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=365,
        description="Days from the issue date to the due date, 0 to 365; default the seller's "
        "terms. Not together with dueDate.",
        examples=[30],
    )
    deliveryDate: Day | None = Field(
        default=None,
        description="YYYY-MM-DD: the date of supply (BT-72); default the issue date.",
        examples=["2026-03-01"],
    )


class InvoiceUpdate(Strict):
    """The metaFields, the only thing of an issued invoice that changes."""

    metaFields: MetaFields = Field(description=f"Required: replaces them all. {META_FIELDS}")


class SendRequest(Strict):
    """Whom to email the document to: `{}` for the customer's email."""

    to: str | None = Field(
        default=None,
        max_length=320,
        description="One email address; default the customer's email.",
        examples=["someone@example.com"],
    )


class InvoiceLineOut(DocumentLineTerms):
    """A line of an invoice: a quantity of an order line, and its net amount."""

    id: str = Field(
        description="The invoice line's id: name it as `invoiceLineId` in a credit note.",
        examples=["693738682fa9114d9af87d2a"],
    )
    lineItemId: str = Field(
        description="The order line it bills.", examples=["6932f96b8cd64c28a4fb5876"]
    )
    quantity: float = Field(description="How many units it bills.", examples=[30])
    name: str = Field(description="The order line's name.", examples=["Widget"])
    sku: str | None = Field(description="The order line's sku.", examples=["W-1"])
    amount: float = Field(
        description="The net amount this invoice bills for the line (split invoices round "
        "cumulatively).",
        examples=[599.7],
    )


class MailSent(Strict):
    """One time the document was emailed (recorded once the mail server accepted it)."""

    sentTo: str = Field(description="The recipient.", examples=["billing@acme.example"])
    sentAt: str = Field(
        description="When the mail server accepted it (ISO 8601 UTC).",
        examples=["2025-12-08T20:45:02.113Z"],
    )


class InvoiceOut(Strict):
    """An invoice: its financial content as issued (never changes), and what happened since."""

    id: str = Field(description="The invoice's id.", examples=["693738682fa9114d9af87d29"])
    id_: str = Field(alias="_id", description=SAME_ID, examples=["693738682fa9114d9af87d29"])
    order: str = Field(description="The order's id.", examples=["6932f96b8cd64c28a4fb5873"])
    entityId: str = Field(
        description="The plain invoice counter: sequential from 1, no gaps, no repeats.",
        examples=["1"],
    )
    number: str = Field(
        description="The invoice number as printed (INVOICING_INVOICE_NUMBER_FORMAT; by "
        "default equal to entityId).",
        examples=["1"],
    )
    currency: str = Field(description="The order's ISO 4217 code.", examples=["USD"])
    issueDate: date = Field(description="The creation date.", examples=["2026-03-01"])
    dueDate: date = Field(description="When payment is due.", examples=["2026-03-31"])
    deliveryDate: date = Field(description="The date of supply (BT-72).", examples=["2026-03-01"])
    deliverTo: PostalAddress | None = Field(description="The order's delivery address, copied.")
    lineItems: list[InvoiceLineOut] = Field(description="What this invoice bills.")
    subtotal: float = Field(description="The sum of the line amounts.", examples=[599.7])
    taxes: list[TaxOut] = Field(description="One entry per (category, rate).")
    taxTotal: float = Field(description="The sum of the tax amounts.", examples=[49.48])
    total: float = Field(description="subtotal + taxTotal.", examples=[649.18])
    seller: SellerOut = Field(description="The seller profile as it was at creation.")
    customer: CustomerOut = Field(description="The order's customer as it was at creation.")
    payments: list[PaymentOut] = Field(description="The payments recorded, oldest first.")
    paidTotal: float = Field(description="The sum of the payments.", examples=[0])
    creditedTotal: float = Field(description="The sum of its credit notes' totals.", examples=[0])
    amountDue: float = Field(
        description="total - creditedTotal - paidTotal; negative when the customer is owed money.",
        examples=[649.18],
    )
    status: InvoiceStatus = Field(
        description="open, partially_paid, paid (nothing due, something paid) or credited "
        "(fully credited).",
        examples=["open"],
    )
    overdue: bool = Field(
        description="Whether something is due and today is after dueDate.", examples=[False]
    )
    createdBy: Creator = Field(description="The token that created it.")
    metaFields: list[MetaField] = Field(description="Your own key/value pairs.")
    mailsSent: list[MailSent] = Field(description="Each time it was emailed, oldest first.")
    createdAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2025-12-08T20:43:20.608Z"]
    )
    updatedAt: str = Field(
        description="ISO 8601 UTC; changes with metaFields, mails, payments and credit notes.",
        examples=["2025-12-08T20:43:20.608Z"],
    )
