"""Invoices: gapless numbers, never beyond what was ordered, financial content fixed at creation."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

import orjson

from invoicing.auth.principal import Principal
from invoicing.config import Settings
from invoicing.core.errors import Conflict, Unprocessable, ValidationFailed
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.numbering import NumberFormat
from invoicing.core.picking import Lines, pick
from invoicing.core.times import iso, now, today
from invoicing.db import counters
from invoicing.db.base import Connection, Row
from invoicing.einvoice import requirements
from invoicing.invoices import repository
from invoicing.invoices.billing import invoice_part
from invoicing.invoices.schemas import InvoiceCreate
from invoicing.invoices.settlement import is_overdue, settle
from invoicing.orders import service as orders
from invoicing.orders.service import left_to_invoice
from invoicing.payments import repository as payments
from invoicing.payments.serialize import to_json as payment_json
from invoicing.seller import service as seller
from invoicing.web import pagination, serialize
from invoicing.web.schemas import MetaField
from invoicing.webhooks import events

INVOICE_NOT_FOUND = "Invoice not found"
ORDER_LINES = Lines(
    "lineItemId", "line item of this order", left_to_invoice, "left to invoice on line item"
)
FULLY_INVOICED = "Order is already fully invoiced"
INCOMPLETE_FOR_EINVOICE = "The invoice lacks data that EN 16931 requires"


async def create(
    connection: Connection, caller: Principal, payload: InvoiceCreate, settings: Settings
) -> dict[str, Any]:
    """Must run in a write transaction: the order stays locked until it ends."""
    order, order_lines = await orders.lock_for_invoicing(connection, payload.orderId, "orderId")
    if all(left_to_invoice(line) <= 0 for line in order_lines):
        invoiced_by = await repository.ids_of_order(connection, order["id"])
        raise Conflict(
            FULLY_INVOICED,
            errors=[{"field": "orderId", "message": f"invoiced by {', '.join(invoiced_by)}"}],
        )
    if payload.lineItems is None:
        picked = [
            (line, left_to_invoice(line)) for line in order_lines if left_to_invoice(line) > 0
        ]
    else:
        requested = [(item.lineItemId, item.quantity) for item in payload.lineItems]
        picked = pick(order_lines, requested, ORDER_LINES)
    issued = today(settings.zone)
    seller_copy = seller.snapshot(order, settings)
    due = _due_date(payload, issued, seller_copy.shown["paymentTermsDays"])

    currency: str = order["currency"]
    part = invoice_part(
        order_lines, picked, orders.loads_billed_taxes(order["billed_taxes"]), currency
    )
    if settings.require_einvoice:
        _require_einvoice(seller_copy.shown, order, part.totals.taxes)
    created_at = now()
    await orders.record_billed(
        connection, order["id"], order_lines, part.order_lines, part.order_taxes, created_at
    )
    totals = part.totals
    row = {
        "id": new_id(),
        "order_id": order["id"],
        "currency": currency,
        "issue_date": issued,
        "due_date": due,
        "delivery_date": payload.deliveryDate or issued,
        "deliver_to": order["deliver_to"],
        "seller": seller_copy.text,
        "customer": order["customer"],
        "subtotal": totals.subtotal,
        "taxes": serialize.dumps_taxes(totals.taxes, orders.exemptions(order_lines)),
        "tax_total": totals.tax_total,
        "total": totals.total,
        "paid_total": Decimal(0),
        "credited_total": Decimal(0),
        "credited_taxes": "[]",
        "amount_due": totals.total,
        "status": settle(totals.total, Decimal(0), Decimal(0), fully_credited=False).status,
        "meta_fields": serialize.dumps_meta_fields(payload.metaFields),
        **serialize.authored(caller, created_at),
    }
    # The numbers last: their counter rows stay locked until the commit, so every create in a
    # series waits for the one before; the fewer statements after them, the more creates per
    # second (bench/PROFILE.md: 0.83x -> 0.97x of the reference on PostgreSQL).
    row["entity_id"], row["number"] = await counters.document_numbers(
        connection, "invoice", NumberFormat(settings.invoice_number_format), issued
    )
    created = to_json(row, part.lines, [], [], today=issued)
    await repository.insert(
        connection,
        row,
        [
            {**li, "invoice_id": row["id"], "position": position}
            for position, li in enumerate(part.lines)
        ],
        created,
    )
    return created


def _require_einvoice(profile: Mapping[str, Any], order: Row, taxes: Sequence[Any]) -> None:
    """422 before any number is taken when the invoice would lack what the EN 16931 core (the
    CII/Factur-X profile) needs."""
    would_be = {
        "seller": profile,
        "customer": orjson.loads(order["customer"]),
        "currency": order["currency"],
        "taxes": [{"category": tax.category} for tax in taxes],
    }
    if missing := requirements.missing(would_be, "en16931"):
        raise Unprocessable(INCOMPLETE_FOR_EINVOICE, errors=missing)


def _due_date(payload: InvoiceCreate, issued: date, seller_terms: int) -> date:
    if payload.dueDate is not None and payload.paymentTermsDays is not None:
        raise ValidationFailed.on("dueDate", "and paymentTermsDays cannot both be given")
    if payload.dueDate is not None:
        if payload.dueDate < issued:
            raise ValidationFailed.on(
                "dueDate", f"must not be before the issue date {issued.isoformat()}"
            )
        return payload.dueDate
    terms = seller_terms if payload.paymentTermsDays is None else payload.paymentTermsDays
    return issued + timedelta(days=terms)


async def get(connection: Connection, invoice_id: str, settings: Settings) -> dict[str, Any]:
    row, mailed = await get_or_404(
        partial(repository.get_mailed, connection), invoice_id, INVOICE_NOT_FOUND
    )
    return await _whole(connection, row, settings, mailed=mailed)


async def lock(connection: Connection, invoice_id: str) -> Row:
    """The invoice's row, locked until the transaction ends; 404 when there is none."""
    return await get_or_404(
        partial(repository.get, connection, lock=True), invoice_id, INVOICE_NOT_FOUND
    )


async def list_page(
    connection: Connection,
    settings: Settings,
    limit: int,
    cursor: str | None,
    filters: repository.Filters,
) -> bytes:
    on = today(settings.zone)

    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.page(connection, before, count, filters, on)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        lines: dict[str, list[Row]] = defaultdict(list)
        for line in await repository.lines_of(connection, ids):
            lines[line["invoice_id"]].append(line)
        mails: dict[str, list[Row]] = defaultdict(list)
        for mail in await repository.mails_of(connection, ids):
            mails[mail["invoice_id"]].append(mail)
        paid = [row["id"] for row in rows if Decimal(row["paid_total"])]
        paid_by: dict[str, list[Row]] = defaultdict(list)
        for payment in await payments.of_invoices(connection, paid):
            paid_by[payment["invoice_id"]].append(payment)
        return [
            to_json(row, lines[row["id"]], mails[row["id"]], paid_by[row["id"]], today=on)
            for row in rows
        ]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def update_meta_fields(
    connection: Connection, invoice_id: str, meta_fields: list[MetaField], settings: Settings
) -> dict[str, Any]:
    dumped = serialize.dumps_meta_fields(meta_fields)
    row = await get_or_404(
        lambda id: repository.update_meta_fields(connection, id, dumped, now()),
        invoice_id,
        INVOICE_NOT_FOUND,
    )
    return await _whole(connection, row, settings)


async def record_sent(
    connection: Connection, invoice_id: str, recipient: str, settings: Settings
) -> dict[str, Any]:
    """Append a sent mail (and bump updatedAt) once the mail server accepted it."""
    row = await get_or_404(
        lambda id: repository.record_mail(connection, id, recipient, now()),
        invoice_id,
        INVOICE_NOT_FOUND,
    )
    sent = await _whole(connection, row, settings)
    await events.emit(connection, "invoice.sent", sent)
    return sent


async def record_settlement(
    connection: Connection,
    invoice: Row,
    settings: Settings,
    *,
    paid: Decimal = Decimal(0),
    credited: Decimal = Decimal(0),
    credited_taxes: str | None = None,
    fully_credited: bool | None = None,
) -> None:
    """Add a payment's or a credit note's amount to a (locked) invoice; its amountDue and
    status follow (`fully_credited`: whether every quantity is credited now, when it changed).
    An invoice that becomes paid emits `invoice.paid`."""
    paid_total = Decimal(invoice["paid_total"]) + paid
    credited_total = Decimal(invoice["credited_total"]) + credited
    if fully_credited is None:
        fully_credited = invoice["status"] == "credited"
    settlement = settle(
        Decimal(invoice["total"]), credited_total, paid_total, fully_credited=fully_credited
    )
    await repository.record_settlement(
        connection,
        invoice["id"],
        paid_total,
        credited_total,
        credited_taxes if credited_taxes is not None else invoice["credited_taxes"],
        settlement.amount_due,
        settlement.status,
        now(),
    )
    if settlement.status == "paid" and invoice["status"] != "paid":
        await events.emit(
            connection, "invoice.paid", await get(connection, invoice["id"], settings)
        )


async def _whole(
    connection: Connection, row: Row, settings: Settings, *, mailed: bool = True
) -> dict[str, Any]:
    """The invoice of `row` with its lines, mails and payments; `mailed=False` when `row` is known
    to have no mail (`repository.get_mailed`)."""
    lines = await repository.shown_lines(connection, row["id"])
    mails = await repository.mails(connection, row["id"]) if mailed else []
    # Most invoices have no payment: skip the query for them (GET /invoices/{id} is hot).
    paid = await payments.of_invoices(connection, [row["id"]]) if Decimal(row["paid_total"]) else []
    return to_json(row, lines, mails, paid, today=today(settings.zone))


# What `to_json` shows of an invoice row and of its lines, in the order it unpacks them: read by
# position from the rows the repository returns (`repository.FIELDS`), by name from those `create`
# builds. sqlite3.Row finds a name by comparing it with each column's in turn: by name, the
# lookups were 92,000 of to_json's 257,000 instructions (callgrind; 5 lines, SQLite).
_SHOWN = (
    "id", "entity_id", "number", "order_id", "currency", "issue_date", "due_date", "delivery_date",
    "deliver_to", "seller", "customer", "subtotal", "taxes", "tax_total", "total", "paid_total",
    "credited_total", "amount_due", "status", "meta_fields", "created_by_id", "created_by_name",
    "created_by_type", "created_at", "updated_at",
)  # fmt: skip
_LINE_SHOWN = (
    "id", "order_line_id", "quantity", "name", "sku", "unit_code", "unit_price", "tax_category",
    "tax_rate", "exemption_reason", "exemption_reason_code", "amount",
)  # fmt: skip
_SHOWN_BY_NAME = itemgetter(*_SHOWN)
_SHOWN_BY_POSITION = itemgetter(*map(repository.FIELDS.index, _SHOWN))
_LINE_SHOWN_BY_NAME = itemgetter(*_LINE_SHOWN)
_LINE_SHOWN_BY_POSITION = itemgetter(*map(repository.LINE_FIELDS.index, _LINE_SHOWN))


def to_json(
    row: Row, lines: Sequence[Row], mails: Sequence[Row], paid: Sequence[Row], *, today: date
) -> dict[str, Any]:
    values_of = _SHOWN_BY_NAME if isinstance(row, dict) else _SHOWN_BY_POSITION
    (
        invoice_id, entity_id, number, order_id, currency, issue_date, due_date, delivery_date,
        deliver_to, seller, customer, subtotal, taxes, tax_total, total, paid_total,
        credited_total, amount_due, status, meta_fields, created_by_id, created_by_name,
        created_by_type, created_at, updated_at,
    ) = values_of(row)  # fmt: skip
    money = serialize.money
    amount_due = Decimal(amount_due)
    due_date = serialize.day(due_date)
    return {
        "id": invoice_id,
        "_id": invoice_id,
        "order": order_id,
        "entityId": str(entity_id),
        "number": number,
        "currency": currency,
        "issueDate": serialize.day(issue_date),
        "dueDate": due_date,
        "deliveryDate": serialize.day(delivery_date),
        "deliverTo": None if deliver_to is None else serialize.document(deliver_to),
        "lineItems": [_line_json(line) for line in lines],
        "subtotal": money(subtotal),
        "taxes": serialize.taxes(taxes),
        "taxTotal": money(tax_total),
        "total": money(total),
        "seller": serialize.document(seller),
        "customer": serialize.document(customer),
        "payments": [payment_json(payment) for payment in paid],
        "paidTotal": money(paid_total),
        "creditedTotal": money(credited_total),
        "amountDue": money(amount_due),
        "status": status,
        "overdue": is_overdue(amount_due, date.fromisoformat(due_date), today),
        "metaFields": serialize.meta_fields(meta_fields),
        "mailsSent": [{"sentTo": m["sent_to"], "sentAt": iso(m["sent_at"])} for m in mails],
        "createdBy": {"id": created_by_id, "name": created_by_name, "type": created_by_type},
        "createdAt": iso(created_at),
        "updatedAt": iso(updated_at),
    }


def _line_json(line: Row) -> dict[str, Any]:
    values_of = _LINE_SHOWN_BY_NAME if isinstance(line, dict) else _LINE_SHOWN_BY_POSITION
    (
        line_id, order_line_id, quantity, name, sku, unit_code, unit_price, tax_category, tax_rate,
        exemption_reason, exemption_reason_code, amount,
    ) = values_of(line)  # fmt: skip
    shown = {
        "id": line_id,
        "lineItemId": order_line_id,
        "quantity": serialize.money(quantity),
        "name": name,
        "sku": sku,
    }
    serialize.add_terms(
        shown,
        unit_code,
        unit_price,
        tax_category,
        tax_rate,
        exemption_reason,
        exemption_reason_code,
    )
    shown["amount"] = serialize.money(amount)
    return shown
