"""What the client's methods take: nested request objects as TypedDicts with snake_case keys
(sent as the service's camelCase), so that mypy checks a dict literal's keys and value types.

Numbers (`Number`) are `Decimal`, `int` or a decimal string such as `"19.99"`, and are sent as
JSON numbers with exactly their digits (a `Decimal` is never turned into a binary float).
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Literal, NotRequired, Required, TypeAlias, TypedDict

from invoicing_client.models import TaxCategory

__all__ = [
    "BankAccountParams",
    "ContactParams",
    "CreditNoteLineItemParams",
    "CustomerParams",
    "ElectronicAddressParams",
    "InvoiceLineItemParams",
    "MetaFieldParams",
    "MetaFields",
    "Number",
    "OrderLineItemParams",
    "PostalAddressParams",
]

Number: TypeAlias = Decimal | int | str


class MetaFieldParams(TypedDict):
    key: str
    value: str


# `{"po": "PO-77"}` or `[{"key": "po", "value": "PO-77"}]`: sent as the latter, in this order.
MetaFields: TypeAlias = Mapping[str, str] | Sequence[MetaFieldParams]


class PostalAddressParams(TypedDict, total=False):
    street: str
    additional_street: str
    city: str
    postal_code: str
    country_subdivision: str
    country: Required[str]


class ElectronicAddressParams(TypedDict):
    scheme: str
    id: str


class ContactParams(TypedDict, total=False):
    name: str
    phone: str
    email: str


class CustomerParams(TypedDict, total=False):
    name: Required[str]
    email: str | None
    address: PostalAddressParams | str | None
    vat_id: str | None
    legal_registration_id: str | None
    buyer_reference: str | None
    electronic_address: ElectronicAddressParams | None
    contact: ContactParams | None


class OrderLineItemParams(TypedDict):
    name: str
    sku: NotRequired[str | None]
    quantity: Number
    unit_code: NotRequired[str]
    unit_price: Number
    tax_rate: NotRequired[Number]
    tax_category: NotRequired[TaxCategory | None]
    exemption_reason: NotRequired[str | None]
    exemption_reason_code: NotRequired[str | None]


class InvoiceLineItemParams(TypedDict):
    line_item_id: str
    quantity: Number


class CreditNoteLineItemParams(TypedDict):
    invoice_line_id: str
    quantity: Number


class BankAccountParams(TypedDict, total=False):
    iban: Required[str]
    bic: str
    account_name: str


TokenType: TypeAlias = Literal["admin", "api"]
# The e-invoice flavours: Peppol BIS Billing 3.0 (UBL's default), EN 16931 (CII's), XRechnung.
UblProfile: TypeAlias = Literal["peppol", "xrechnung"]
CiiProfile: TypeAlias = Literal["en16931", "xrechnung"]
