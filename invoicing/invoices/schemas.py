from datetime import date
from typing import Literal

from pydantic import Field

from invoicing.orders.schemas import CustomerOut, DocumentLineTerms
from invoicing.payments.schemas import PaymentOut
from invoicing.seller.schemas import SellerOut
from invoicing.web.parties import PostalAddress
from invoicing.web.schemas import Creator, Day, MetaField, MetaFields, Quantity, Strict, TaxOut

# A calendar date as ISO 8601 text (`2026-03-01`), nothing else (no Unix times).
InvoiceStatus = Literal["open", "partially_paid", "paid", "credited"]


class InvoiceLineIn(Strict):
    lineItemId: str = Field(min_length=1, max_length=100)
    quantity: Quantity


class InvoiceCreate(Strict):
    orderId: str = Field(min_length=1, examples=["69ab24db449866373d5e3e35"])
    lineItems: list[InvoiceLineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Invoice only these quantities; without it, everything not yet invoiced.",
    )
    metaFields: MetaFields = []
    dueDate: Day | None = Field(
        default=None, description="Not before the issue date.", examples=["2026-03-01"]
    )
    paymentTermsDays: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=365,
        description="Days from the issue date to the due date; default the seller's terms.",
    )
    deliveryDate: Day | None = Field(
        default=None, description="The date of supply (BT-72); default the issue date."
    )


class InvoiceUpdate(Strict):
    metaFields: MetaFields


class SendRequest(Strict):
    to: str | None = Field(default=None, max_length=320)


class InvoiceLineOut(DocumentLineTerms):
    id: str
    lineItemId: str
    quantity: float
    name: str
    sku: str | None
    amount: float


class MailSent(Strict):
    sentTo: str
    sentAt: str


class InvoiceOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    order: str
    entityId: str
    number: str
    currency: str
    issueDate: date
    dueDate: date
    deliveryDate: date
    deliverTo: PostalAddress | None = Field(description="The order's delivery address, copied.")
    lineItems: list[InvoiceLineOut]
    subtotal: float
    taxes: list[TaxOut]
    taxTotal: float
    total: float
    seller: SellerOut = Field(description="The seller profile as it was at creation.")
    customer: CustomerOut
    payments: list[PaymentOut]
    paidTotal: float
    creditedTotal: float
    amountDue: float
    status: InvoiceStatus
    overdue: bool
    createdBy: Creator
    metaFields: list[MetaField]
    mailsSent: list[MailSent]
    createdAt: str
    updatedAt: str
