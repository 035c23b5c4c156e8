from datetime import date

from pydantic import ConfigDict, Field

from invoicing.invoices.schemas import MailSent
from invoicing.orders.schemas import CustomerOut, DocumentLineTerms
from invoicing.seller.schemas import SellerOut
from invoicing.web.parties import PostalAddress
from invoicing.web.schemas import (
    EXACT,
    META_FIELDS,
    SAME_ID,
    Creator,
    MetaField,
    MetaFields,
    Name,
    Quantity,
    Strict,
    TaxOut,
)


class CreditNoteLineIn(Strict):
    """A quantity of one invoice line to credit."""

    invoiceLineId: str = Field(
        min_length=1,
        max_length=100,
        description="The id of a line of the invoice (its lineItems[].id).",
        examples=["693738682fa9114d9af87d2a"],
    )
    quantity: Quantity = Field(
        description=f"How much of it to credit: above 0, at most what is left to credit on "
        f"that line, at most 3 decimals. {EXACT}"
    )


class CreditNoteCreate(Strict):
    """Why, and what: without `lineItems`, everything of the invoice not credited yet."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "Two widgets returned",
                    "lineItems": [{"invoiceLineId": "693738682fa9114d9af87d2a", "quantity": 2}],
                    "metaFields": [],
                }
            ]
        }
    )

    reason: Name = Field(
        min_length=1,
        max_length=500,
        description="Required: why the invoice is corrected (1 to 500 characters); printed.",
        examples=["Two widgets returned"],
    )
    lineItems: list[CreditNoteLineIn] | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="Credit only these quantities; without it, everything not credited yet.",
    )
    metaFields: MetaFields = Field(default=[], description=META_FIELDS)


class CreditNoteUpdate(Strict):
    """The metaFields, the only thing of a credit note that changes."""

    metaFields: MetaFields = Field(description=f"Required: replaces them all. {META_FIELDS}")


class CreditNoteLineOut(DocumentLineTerms):
    """A line of a credit note: a quantity of an invoice line, and its net amount."""

    id: str = Field(description="The credit note line's id.", examples=["6939b0c12fa9114d9af87e11"])
    invoiceLineId: str = Field(
        description="The invoice line it credits.", examples=["693738682fa9114d9af87d2a"]
    )
    lineItemId: str = Field(
        description="The order line of that invoice line.", examples=["6932f96b8cd64c28a4fb5876"]
    )
    name: str = Field(description="The line's name.", examples=["Widget"])
    sku: str | None = Field(description="The line's sku.", examples=["W-1"])
    quantity: float = Field(description="How many units it credits.", examples=[2])
    amount: float = Field(
        description="The net amount credited (positive), rounded cumulatively within the invoice.",
        examples=[39.98],
    )


class CreditNoteOut(Strict):
    """A credit note: a correction of one invoice, never edited afterwards."""

    id: str = Field(description="The credit note's id.", examples=["6939b0c12fa9114d9af87e10"])
    id_: str = Field(alias="_id", description=SAME_ID, examples=["6939b0c12fa9114d9af87e10"])
    invoice: str = Field(
        description="The id of the invoice it corrects.", examples=["693738682fa9114d9af87d29"]
    )
    invoiceNumber: str = Field(description="That invoice's number (BT-25).", examples=["1"])
    invoiceIssueDate: date = Field(
        description="The credited invoice's issue date (BT-26).", examples=["2026-03-01"]
    )
    order: str = Field(description="The order's id.", examples=["6932f96b8cd64c28a4fb5873"])
    number: str = Field(
        description="The credit note number as printed (INVOICING_CREDIT_NOTE_NUMBER_FORMAT, "
        "default CN-{seq}); a gapless series of its own.",
        examples=["CN-1"],
    )
    entityId: str = Field(description="The plain credit note counter.", examples=["1"])
    currency: str = Field(description="The invoice's currency.", examples=["USD"])
    issueDate: date = Field(description="The creation date.", examples=["2026-03-05"])
    deliverTo: PostalAddress | None = Field(description="The invoice's delivery address.")
    reason: str = Field(description="Why.", examples=["Two widgets returned"])
    lineItems: list[CreditNoteLineOut] = Field(description="What it credits.")
    subtotal: float = Field(description="The sum of the line amounts.", examples=[39.98])
    taxes: list[TaxOut] = Field(description="One entry per (category, rate) credited.")
    taxTotal: float = Field(description="The sum of the tax amounts.", examples=[3.3])
    total: float = Field(
        description="subtotal + taxTotal: positive, what the customer no longer owes.",
        examples=[43.28],
    )
    seller: SellerOut = Field(description="The seller profile as it was at creation.")
    customer: CustomerOut = Field(description="The invoice's copy of the customer.")
    metaFields: list[MetaField] = Field(description="Your own key/value pairs.")
    mailsSent: list[MailSent] = Field(description="Each time it was emailed, oldest first.")
    createdBy: Creator = Field(description="The token that created it.")
    createdAt: str = Field(
        description="ISO 8601 UTC, with milliseconds.", examples=["2026-03-05T11:02:09.350Z"]
    )
    updatedAt: str = Field(
        description="ISO 8601 UTC; changes with metaFields and mails.",
        examples=["2026-03-05T11:02:09.350Z"],
    )
