from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from invoicing.core.money import CURRENCIES
from invoicing.mail.message import InvalidRecipient, parse_recipient
from invoicing.web.schemas import (
    Creator,
    ExactDecimal,
    MetaField,
    MetaFields,
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


ADDRESS_MAX_LINES = 10
ADDRESS_MAX_LINE_LENGTH = 100


def _printable_address(address: str) -> str:
    """An address the invoice prints in full: at most 10 lines of at most 100 characters.

    The PDF never cuts an address off (it wraps long lines and flows onto the next page), but
    one that long is not a postal address: refuse it rather than print pages of it. Lines are
    counted as printed, without blank lines before or after; every kind of line break counts.
    """
    if len(address.strip().splitlines()) > ADDRESS_MAX_LINES:
        raise ValueError(f"must have at most {ADDRESS_MAX_LINES} lines")
    for number, line in enumerate(address.splitlines(), start=1):
        if len(line) > ADDRESS_MAX_LINE_LENGTH:
            raise ValueError(f"line {number} must be at most {ADDRESS_MAX_LINE_LENGTH} characters")
    return address


CustomerAddress = Annotated[
    str,
    Field(
        max_length=1000,
        description="Free text, at most 10 lines of at most 100 characters each.",
        examples=["Main St 1\n10115 Berlin"],
    ),
    AfterValidator(_printable_address),
]


def _deliverable_form(email: str) -> str:
    """Refused here rather than at sending time: syntax and domain form, no DNS lookup."""
    try:
        parse_recipient(email)
    except InvalidRecipient:
        raise ValueError("must be a valid email address") from None
    return email


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: Annotated[str, AfterValidator(_deliverable_form)] | None = Field(
        default=None, max_length=320, examples=["billing@acme.example"]
    )
    address: CustomerAddress | None = None


class OrderLineIn(Strict):
    name: str = Field(min_length=1, max_length=500)
    sku: str | None = Field(default=None, max_length=100)
    quantity: Quantity
    unitPrice: UnitPrice
    taxRate: TaxRate = Decimal(0)


class OrderCreate(Strict):
    customer: CustomerIn
    currency: Currency | None = None
    lineItems: list[OrderLineIn] = Field(min_length=1, max_length=500)
    metaFields: MetaFields = []


class CustomerOut(Strict):
    name: str
    email: str | None
    address: str | None


class OrderLineOut(Strict):
    id: str
    name: str
    sku: str | None
    quantity: float
    unitPrice: float
    taxRate: float
    amount: float
    invoicedQuantity: float


class OrderOut(Strict):
    id: str
    id_: str = Field(alias="_id")
    customer: CustomerOut
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
