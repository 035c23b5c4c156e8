from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from invoicing.core.money import CURRENCIES
from invoicing.web.schemas import (
    Creator,
    MetaField,
    MetaFields,
    Quantity,
    Strict,
    TaxOut,
    decimal_string_pattern,
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
    Decimal,
    Field(
        ge=0,
        le=10**11,
        decimal_places=4,
        allow_inf_nan=False,
        examples=[19.99],
        json_schema_extra=decimal_string_pattern,
    ),
]
TaxRate = Annotated[
    Decimal,
    Field(
        ge=0,
        le=100,
        decimal_places=4,
        allow_inf_nan=False,
        examples=[8.25],
        json_schema_extra=decimal_string_pattern,
    ),
]


class CustomerIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    address: str | None = Field(default=None, max_length=1000)


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
