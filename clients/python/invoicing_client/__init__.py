"""A typed Python client for the invoicing service's HTTP API, sync and async.

    from invoicing_client import Client

    with Client("http://127.0.0.1:8000", token) as client:
        order = client.orders.create(
            customer={"name": "Acme GmbH", "email": "billing@acme.example"},
            line_items=[{"name": "Widget", "quantity": 30, "unit_price": Decimal("19.99")}],
        )
        invoice = client.invoices.create(order_id=order.id)
        print(invoice.number, invoice.total)            # 1 Decimal('599.70')

`AsyncClient` is the same API with `await` (and `async for` over lists). Errors are
`InvoicingError`s (`invoicing_client.errors`); webhooks are verified with
`invoicing_client.webhooks.verify`.
"""

__version__ = "0.1.0"

from invoicing_client import models, webhooks
from invoicing_client._async_client import AsyncClient
from invoicing_client._sync_client import Client
from invoicing_client.errors import (
    APIError,
    AuthenticationError,
    Conflict,
    InvoicingError,
    NetworkError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    ServerError,
    Timeout,
    UnprocessableEntity,
    UnsupportedMediaType,
    ValidationError,
    WebhookVerificationError,
)
from invoicing_client.models import (
    BankAccount,
    Contact,
    Creator,
    CreditNote,
    CreditNoteLineItem,
    Customer,
    Delivery,
    ElectronicAddress,
    FieldError,
    Invoice,
    InvoiceLineItem,
    MailSent,
    MetaField,
    NewToken,
    Order,
    OrderLineItem,
    Payment,
    PostalAddress,
    Seller,
    Tax,
    Token,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
    WebhookPing,
)

__all__ = [
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "BankAccount",
    "Client",
    "Conflict",
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
    "InvoicingError",
    "MailSent",
    "MetaField",
    "NetworkError",
    "NewToken",
    "NotFound",
    "Order",
    "OrderLineItem",
    "PayloadTooLarge",
    "Payment",
    "PermissionDenied",
    "PostalAddress",
    "RateLimited",
    "Seller",
    "ServerError",
    "Tax",
    "Timeout",
    "Token",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "ValidationError",
    "WebhookEndpoint",
    "WebhookEndpointWithSecret",
    "WebhookPing",
    "WebhookVerificationError",
    "__version__",
    "models",
    "webhooks",
]
