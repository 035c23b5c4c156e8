from datetime import date

from pydantic import Field

from invoicing.invoices.schemas import MailSent
from invoicing.orders.schemas import CustomerOut, DocumentLineTerms
from invoicing.seller.schemas import SellerOut
from invoicing.web.parties import PostalAddress
from invoicing.web.schemas import Creator, MetaField, MetaFields, Name, Quantity, Strict, TaxOut


class CreditNoteLineIn(Strict):
    invoiceLineId: str = Field(min_length=1, max_length=100)
    quantity: Quantity


class CreditNoteCreate(Strict):
    reason: Name = Field(min_length=1, max_length=500, examples=["Two widgets returned"])
    lineItems: list[CreditNoteLineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Credit only these quantities; without it, everything not credited yet.",
    )
    metaFields: MetaFields = []


class CreditNoteUpdate(Strict):
    metaFields: MetaFields


class CreditNoteLineOut(DocumentLineTerms):
    id: str
    invoiceLineId: str
    lineItemId: str
    name: str
    sku: str | None
    quantity: float
    amount: float


class CreditNoteOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    invoice: str
    invoiceNumber: str
    invoiceIssueDate: date = Field(description="The credited invoice's issue date (BT-26).")
    order: str
    number: str
    entityId: str
    currency: str
    issueDate: date
    deliverTo: PostalAddress | None = Field(description="The invoice's delivery address.")
    reason: str
    lineItems: list[CreditNoteLineOut]
    subtotal: float
    taxes: list[TaxOut]
    taxTotal: float
    total: float
    seller: SellerOut = Field(description="The seller profile as it was at creation.")
    customer: CustomerOut
    metaFields: list[MetaField]
    mailsSent: list[MailSent]
    createdBy: Creator
    createdAt: str
    updatedAt: str
