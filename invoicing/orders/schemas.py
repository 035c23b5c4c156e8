from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from invoicing.core.money import CURRENCIES
from invoicing.web.parties import (
    Contact,
    ElectronicAddress,
    Email,
    PartyAddress,
    PostalAddress,
    VatId,
)
from invoicing.web.schemas import (
    Creator,
    ExactDecimal,
    MetaField,
    MetaFields,
    Name,
    Quantity,
    Strict,
    TaxOut,
)

OrderStatus = Literal["open", "partially_invoiced", "invoiced"]


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError("must be an ISO 4217 currency code such as USD")
    return code


Currency = Annotated[
    str, Field(min_length=3, max_length=3, examples=["USD"]), AfterValidator(_known_currency)
]
UnitPrice = Annotated[
    Decimal, ExactDecimal(ge=0, le=10**11, decimal_places=4), Field(examples=[19.99])
]
TaxRate = Annotated[Decimal, ExactDecimal(ge=0, le=100, decimal_places=4), Field(examples=[8.25])]


class CustomerIn(Strict):
    name: Name = Field(min_length=1, max_length=200)
    email: Email | None = Field(default=None, max_length=320, examples=["billing@acme.example"])
    address: PartyAddress = None
    vatId: VatId | None = None
    legalRegistrationId: str | None = Field(default=None, max_length=100, description="BT-47")
    buyerReference: str | None = Field(
        default=None, max_length=200, description="BT-10; the Leitweg-ID for German public buyers"
    )
    electronicAddress: ElectronicAddress | None = None
    contact: Contact | None = None


# UNCL5305 VAT categories (see the API's line rules and `orders.taxes`).
TaxCategory = Literal["S", "Z", "E", "AE", "K", "G", "O", "L", "M"]
UnitCode = Annotated[
    str,
    Field(
        pattern=r"^[A-Z0-9]{2,3}$",
        description='UN/ECE Recommendation 20 unit code; "C62" (one) by default.',
        examples=["C62", "HUR", "KGM"],
    ),
]


class OrderLineIn(Strict):
    name: Name = Field(min_length=1, max_length=500)
    sku: str | None = Field(default=None, max_length=100)
    quantity: Quantity
    unitCode: UnitCode = "C62"
    unitPrice: UnitPrice
    taxRate: TaxRate = Decimal(0)
    taxCategory: TaxCategory | None = Field(
        default=None, description="S when taxRate is above 0, else Z, unless given."
    )
    exemptionReason: str | None = Field(default=None, min_length=1, max_length=1000)
    exemptionReasonCode: str | None = Field(
        default=None, pattern=r"^VATEX-[A-Z0-9-]{1,24}$", examples=["VATEX-EU-AE"]
    )


class OrderCreate(Strict):
    customer: CustomerIn
    deliverTo: PostalAddress | None = None
    currency: Currency | None = None
    lineItems: list[OrderLineIn] = Field(min_length=1, max_length=500)
    metaFields: MetaFields = []


class CustomerOut(Strict):
    name: str
    email: str | None
    address: PostalAddress | str | None
    vatId: str | None
    legalRegistrationId: str | None
    buyerReference: str | None
    electronicAddress: ElectronicAddress | None
    contact: Contact | None


class DocumentLineTerms(Strict):
    """What every document line states about its unit and its tax."""

    unitCode: str
    unitPrice: float
    taxCategory: TaxCategory
    taxRate: float
    exemptionReason: str | None = None
    exemptionReasonCode: str | None = None


class OrderLineOut(DocumentLineTerms):
    id: str
    name: str
    sku: str | None
    quantity: float
    amount: float
    invoicedQuantity: float


class OrderOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    customer: CustomerOut
    deliverTo: PostalAddress | None
    currency: str
    lineItems: list[OrderLineOut]
    subtotal: float
    taxes: list[TaxOut]
    taxTotal: float
    total: float
    status: OrderStatus
    metaFields: list[MetaField]
    createdBy: Creator
    createdAt: str
    updatedAt: str
