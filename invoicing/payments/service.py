"""Payments: recorded against an invoice, never edited or deleted, never more than is due."""

from decimal import Decimal
from typing import Any

from invoicing.auth.principal import Principal
from invoicing.config import Settings
from invoicing.core.errors import Conflict, ValidationFailed
from invoicing.core.ids import new_id
from invoicing.core.money import minor_unit, number
from invoicing.core.times import now, today
from invoicing.db.base import Connection
from invoicing.invoices import service as invoices
from invoicing.payments import repository
from invoicing.payments.schemas import PaymentCreate
from invoicing.payments.serialize import to_json
from invoicing.webhooks import events

EXCEEDS_AMOUNT_DUE = "Payment exceeds the amount due"
NOTHING_TO_PAY = "Invoice has nothing left to pay"


async def create(
    connection: Connection,
    caller: Principal,
    invoice_id: str,
    payload: PaymentCreate,
    settings: Settings,
) -> dict[str, Any]:
    """Must run in a write transaction: the invoice stays locked until it ends, so concurrent
    payments are checked one after the other against what is due."""
    invoice = await invoices.lock(connection, invoice_id)
    currency: str = invoice["currency"]
    unit = minor_unit(currency)
    if payload.amount != payload.amount.quantize(unit):
        places = -unit.as_tuple().exponent  # type: ignore[operator]
        raise ValidationFailed.on("amount", f"must have at most {places} decimals for {currency}")
    on = today(settings.zone)
    paid_at = payload.paidAt or on
    if paid_at > on:
        raise ValidationFailed.on("paidAt", f"must not be in the future (today is {on})")
    amount_due = Decimal(invoice["amount_due"])
    if amount_due <= 0:
        raise Conflict(NOTHING_TO_PAY)
    if payload.amount > amount_due:
        raise Conflict(
            EXCEEDS_AMOUNT_DUE,
            errors=[{"field": "amount", "message": f"the amount due is {number(amount_due)}"}],
        )
    created_at = now()
    payment = {
        "id": new_id(),
        "invoice_id": invoice["id"],
        "amount": payload.amount,
        "currency": currency,
        "paid_at": paid_at,
        "method": payload.method,
        "reference": payload.reference,
        "created_by_id": caller.id,
        "created_by_name": caller.name,
        "created_by_type": caller.type,
        "created_at": created_at,
    }
    await repository.insert(connection, payment)
    created = to_json(payment)
    await events.emit(connection, "payment.created", created)
    await invoices.record_settlement(connection, invoice, settings, paid=payload.amount)
    return created
