"""Receiving the service's webhooks: `verify` checks a request's Standard Webhooks signature and
returns the event, typed by its `type`:

    from invoicing_client import webhooks

    event = webhooks.verify(request.headers, request.body, secret)  # WebhookVerificationError
    if isinstance(event, webhooks.InvoiceEvent) and event.type == "invoice.paid":
        print(event.data.number, event.data.amount_due)  # event.data: an Invoice

| `type`                                           | event class       | `data`       |
|--------------------------------------------------|-------------------|--------------|
| invoice.created, invoice.sent, invoice.paid      | `InvoiceEvent`    | `Invoice`    |
| order.created                                    | `OrderEvent`      | `Order`      |
| payment.created                                  | `PaymentEvent`    | `Payment`    |
| creditnote.created, creditnote.sent              | `CreditNoteEvent` | `CreditNote` |
| ping                                             | `PingEvent`       | `PingData`   |
| anything else (a newer service's)                | `UnknownEvent`    | `dict`       |

Tell them apart with `isinstance` (or `match event: case InvoiceEvent(): ...`), which mypy
follows; `UnknownEvent` keeps a newer service's new types from breaking a receiver. Events are
sent at least once: dedupe on `event.id` (the `webhook-id` header).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import AwareDatetime, Discriminator, Tag, TypeAdapter
from standardwebhooks.webhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError as _StandardError

from invoicing_client.errors import WebhookVerificationError
from invoicing_client.models import CreditNote, Invoice, Model, Order, Payment

__all__ = [
    "CreditNoteEvent",
    "Event",
    "InvoiceEvent",
    "OrderEvent",
    "PaymentEvent",
    "PingData",
    "PingEvent",
    "UnknownEvent",
    "WebhookVerificationError",
    "parse",
    "verify",
]


class _Event(Model):
    id: str
    created_at: AwareDatetime


class InvoiceEvent(_Event):
    type: Literal["invoice.created", "invoice.sent", "invoice.paid"]
    data: Invoice


class OrderEvent(_Event):
    type: Literal["order.created"]
    data: Order


class PaymentEvent(_Event):
    type: Literal["payment.created"]
    data: Payment


class CreditNoteEvent(_Event):
    type: Literal["creditnote.created", "creditnote.sent"]
    data: CreditNote


class PingData(Model):
    endpoint_id: str


class PingEvent(_Event):
    type: Literal["ping"]
    data: PingData


class UnknownEvent(_Event):
    """An event type this client does not know yet (a newer service): its data untyped."""

    type: str
    data: dict[str, Any]


_KINDS = {
    "invoice.created": "invoice",
    "invoice.sent": "invoice",
    "invoice.paid": "invoice",
    "order.created": "order",
    "payment.created": "payment",
    "creditnote.created": "creditnote",
    "creditnote.sent": "creditnote",
    "ping": "ping",
}


def _kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return _KINDS.get(kind, "unknown") if isinstance(kind, str) else "unknown"


Event: TypeAlias = Annotated[
    Annotated[InvoiceEvent, Tag("invoice")]
    | Annotated[OrderEvent, Tag("order")]
    | Annotated[PaymentEvent, Tag("payment")]
    | Annotated[CreditNoteEvent, Tag("creditnote")]
    | Annotated[PingEvent, Tag("ping")]
    | Annotated[UnknownEvent, Tag("unknown")],
    Discriminator(_kind),
]
_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


def verify(headers: Mapping[str, str], body: bytes | str, secret: str) -> Event:
    """The event of a webhook request whose signature verifies with `secret` (`whsec_...`; during
    a rotation, either the old or the new one).

    `headers`: the request's headers (any mapping, names in any case; `webhook-id`,
    `webhook-timestamp` and `webhook-signature` are used); `body`: its body exactly as received
    (bytes, not re-serialized JSON). Raises `WebhookVerificationError` when a header is missing or
    malformed, no signature matches (altered, or not from the service) or the timestamp is more
    than 5 minutes away from now (a replay); `ValueError` when `secret` is not a webhook secret."""
    try:
        hook = Webhook(secret)
    except ValueError as error:  # binascii.Error included
        raise ValueError("secret is not a Standard Webhooks secret (whsec_...)") from error
    except Exception as error:  # EmptyWebhookSecretError, RuntimeError
        raise ValueError(f"secret is not usable: {error}") from error
    plain = {str(name).lower(): str(value) for name, value in headers.items()}
    try:
        hook.verify(body, plain, json_parse=False)
    except _StandardError as error:
        raise WebhookVerificationError(str(error) or "Signature does not verify") from error
    except ValueError as error:
        # A malformed signature header ("v1" with no comma, base64 that is not).
        raise WebhookVerificationError(f"Malformed webhook signature: {error}") from error
    return parse(body)


def parse(body: bytes | str) -> Event:
    """The event in a webhook body, WITHOUT checking its signature: for bodies you have verified
    already (or tests). Numbers are read exactly, as everywhere in this client."""
    return _EVENT.validate_python(json.loads(body, parse_float=Decimal))
