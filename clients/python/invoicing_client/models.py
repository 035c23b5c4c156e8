"""The service's resources as typed, immutable models.

Attributes are snake_case (`invoice.amount_due`); the service's camelCase names are their aliases.
Money, quantities and rates are `Decimal`, read digit for digit from the response text (never
through a binary float: `713.64` is `Decimal("713.64")`); calendar dates are `date`; times are
timezone-aware `datetime` (UTC). The duplicate `_id` the service sends next to `id` is left out.

`tests/client/test_drift.py` proves these match the service's OpenAPI document: the same fields,
required the same way, of compatible types.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Literal, TypeAlias

from pydantic import AwareDatetime, BaseModel, ConfigDict

__all__ = [
    "BankAccount",
    "Contact",
    "Creator",
    "CreditNote",
    "CreditNoteLineItem",
    "Customer",
    "Delivery",
    "ElectronicAddress",
    "FieldError",
    "Invoice",
    "InvoiceLineItem",
    "InvoiceStatus",
    "MailSent",
    "MetaField",
    "Model",
    "NewToken",
    "Order",
    "OrderLineItem",
    "OrderStatus",
    "Payment",
    "PostalAddress",
    "Seller",
    "Tax",
    "TaxCategory",
    "Token",
    "WebhookEndpoint",
    "WebhookEndpointWithSecret",
    "WebhookPing",
]

_SNAKE = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """`amount_due` -> `amountDue` (a name already in camelCase is left as it is)."""
    return _SNAKE.sub(lambda match: match.group(1).upper(), name)


class Model(BaseModel):
    """Base of every resource model: camelCase aliases, immutable, and tolerant of fields a newer
    service adds (they are ignored, so an older client keeps working)."""

    model_config = ConfigDict(
        alias_generator=camel, populate_by_name=True, frozen=True, extra="ignore"
    )


TaxCategory: TypeAlias = Literal["S", "Z", "E", "AE", "K", "G", "O", "L", "M"]
OrderStatus: TypeAlias = Literal["open", "partially_invoiced", "invoiced"]
InvoiceStatus: TypeAlias = Literal["open", "partially_paid", "paid", "credited"]
DeliveryStatus: TypeAlias = Literal["pending", "delivered", "failed"]
TokenType: TypeAlias = Literal["admin", "api"]


class FieldError(Model):
    """One entry of an error's `errors`: the field (a path into the request) and what is wrong."""

    field: str
    message: str


class MetaField(Model):
    key: str
    value: str


class Creator(Model):
    """The access token that created a resource."""

    id: str
    name: str
    type: str


class Tax(Model):
    """One (category, rate) group of a document's tax breakdown."""

    category: str
    rate: Decimal
    taxable: Decimal
    amount: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class PostalAddress(Model):
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postal_code: str = ""
    country_subdivision: str = ""
    country: str


class ElectronicAddress(Model):
    scheme: str
    id: str


class Contact(Model):
    name: str = ""
    phone: str = ""
    email: str = ""


class BankAccount(Model):
    iban: str
    bic: str = ""
    account_name: str = ""


class Customer(Model):
    name: str
    email: str | None
    address: PostalAddress | str | None
    vat_id: str | None
    legal_registration_id: str | None
    buyer_reference: str | None
    electronic_address: ElectronicAddress | None
    contact: Contact | None


class Seller(Model):
    """The seller profile (and the copy of it every invoice and credit note keeps)."""

    name: str
    legal_name: str
    address: PostalAddress | str | None
    vat_id: str
    tax_registration_id: str
    legal_registration_id: str
    email: str
    phone: str
    contact: Contact | None
    electronic_address: ElectronicAddress | None
    bank_account: BankAccount | None
    payment_terms_days: int
    updated_at: AwareDatetime | None


class _DocumentLine(Model):
    unit_code: str
    unit_price: Decimal
    tax_category: TaxCategory
    tax_rate: Decimal
    exemption_reason: str | None = None
    exemption_reason_code: str | None = None


class OrderLineItem(_DocumentLine):
    id: str
    name: str
    sku: str | None
    quantity: Decimal
    amount: Decimal
    invoiced_quantity: Decimal


class Order(Model):
    id: str
    customer: Customer
    deliver_to: PostalAddress | None
    currency: str
    line_items: list[OrderLineItem]
    subtotal: Decimal
    taxes: list[Tax]
    tax_total: Decimal
    total: Decimal
    status: OrderStatus
    meta_fields: list[MetaField]
    created_by: Creator
    created_at: AwareDatetime
    updated_at: AwareDatetime


class InvoiceLineItem(_DocumentLine):
    id: str
    line_item_id: str
    quantity: Decimal
    name: str
    sku: str | None
    amount: Decimal


class MailSent(Model):
    sent_to: str
    sent_at: AwareDatetime


class Payment(Model):
    id: str
    invoice: str
    amount: Decimal
    currency: str
    paid_at: date
    method: str | None
    reference: str | None
    created_by: Creator
    created_at: AwareDatetime


class Invoice(Model):
    id: str
    order: str
    entity_id: str
    number: str
    currency: str
    issue_date: date
    due_date: date
    delivery_date: date
    deliver_to: PostalAddress | None
    line_items: list[InvoiceLineItem]
    subtotal: Decimal
    taxes: list[Tax]
    tax_total: Decimal
    total: Decimal
    seller: Seller
    customer: Customer
    payments: list[Payment]
    paid_total: Decimal
    credited_total: Decimal
    amount_due: Decimal
    status: InvoiceStatus
    overdue: bool
    created_by: Creator
    meta_fields: list[MetaField]
    mails_sent: list[MailSent]
    created_at: AwareDatetime
    updated_at: AwareDatetime


class CreditNoteLineItem(_DocumentLine):
    id: str
    invoice_line_id: str
    line_item_id: str
    name: str
    sku: str | None
    quantity: Decimal
    amount: Decimal


class CreditNote(Model):
    id: str
    invoice: str
    invoice_number: str
    invoice_issue_date: date
    order: str
    number: str
    entity_id: str
    currency: str
    issue_date: date
    deliver_to: PostalAddress | None
    reason: str
    line_items: list[CreditNoteLineItem]
    subtotal: Decimal
    taxes: list[Tax]
    tax_total: Decimal
    total: Decimal
    seller: Seller
    customer: Customer
    meta_fields: list[MetaField]
    mails_sent: list[MailSent]
    created_by: Creator
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WebhookEndpoint(Model):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class WebhookEndpointWithSecret(WebhookEndpoint):
    """An endpoint as created or rotated: with its signing secret, shown only then."""

    secret: str


class Delivery(Model):
    """An event's delivery to one endpoint: how it went so far."""

    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: AwareDatetime | None
    next_attempt_at: AwareDatetime | None
    delivered_at: AwareDatetime | None
    created_at: AwareDatetime


class WebhookPing(Model):
    """What `webhooks.test` answers: the id of the `ping` event queued."""

    event_id: str


class Token(Model):
    id: str
    name: str
    type: TokenType
    created_at: AwareDatetime
    revoked_at: AwareDatetime | None


class NewToken(Token):
    """A token as created: with its secret, shown only then."""

    token: str
