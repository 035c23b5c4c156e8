from pydantic import Field

from invoicing.web.schemas import Creator, MetaField, MetaFields, Quantity, Strict, TaxOut


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


class InvoiceUpdate(Strict):
    metaFields: MetaFields


class SendRequest(Strict):
    to: str | None = Field(default=None, max_length=320)


class InvoiceLineOut(Strict):
    id: str
    lineItemId: str
    quantity: float
    name: str
    sku: str | None
    unitPrice: float
    taxRate: float
    amount: float


class MailSent(Strict):
    sentTo: str
    sentAt: str


class InvoiceOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    order: str
    entityId: str
    currency: str
    lineItems: list[InvoiceLineOut]
    subtotal: float
    taxes: list[TaxOut]
    taxTotal: float
    total: float
    createdBy: Creator
    metaFields: list[MetaField]
    mailsSent: list[MailSent]
    createdAt: str
    updatedAt: str
