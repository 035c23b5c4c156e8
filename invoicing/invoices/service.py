"""Invoices: gapless numbers, never beyond what was ordered, financial content fixed at creation."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from invoicing.auth.principal import Principal
from invoicing.core.errors import Conflict, ValidationFailed
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.money import line_amount, number, totals
from invoicing.core.times import iso, now
from invoicing.db.base import Connection, Row
from invoicing.invoices import repository
from invoicing.invoices.schemas import InvoiceCreate, InvoiceLineIn
from invoicing.orders import service as orders
from invoicing.orders.service import remaining
from invoicing.web import pagination, serialize
from invoicing.web.schemas import MetaField

INVOICE_NOT_FOUND = "Invoice not found"
FULLY_INVOICED = "Order is already fully invoiced"


async def create(
    connection: Connection, caller: Principal, payload: InvoiceCreate
) -> dict[str, Any]:
    """Must run in a write transaction: the order stays locked until it ends."""
    order, order_lines = await orders.lock_for_invoicing(connection, payload.orderId)
    if all(remaining(line)[0] <= 0 for line in order_lines):
        raise Conflict(FULLY_INVOICED)
    if payload.lineItems is None:
        picked = [(line, remaining(line)[0]) for line in order_lines if remaining(line)[0] > 0]
    else:
        picked = _pick(order_lines, payload.lineItems)

    currency: str = order["currency"]
    lines: list[dict[str, Any]] = []
    invoiced: dict[str, tuple[Decimal, Decimal]] = {}
    for line, quantity in picked:
        left_quantity, left_amount = remaining(line)
        # The invoice that takes a line's last quantity takes its remaining net, so an order's
        # invoices add up exactly to the order.
        if quantity == left_quantity:
            amount = left_amount
        else:
            amount = line_amount(quantity, Decimal(line["unit_price"]), currency)
        lines.append(
            {
                "id": new_id(),
                "order_line_id": line["id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": quantity,
                "unit_price": Decimal(line["unit_price"]),
                "tax_rate": Decimal(line["tax_rate"]),
                "amount": amount,
            }
        )
        invoiced[line["id"]] = (
            Decimal(line["invoiced_quantity"]) + quantity,
            Decimal(line["invoiced_amount"]) + amount,
        )
    invoice_totals = totals(((li["amount"], li["tax_rate"]) for li in lines), currency)
    fully_invoiced = all(
        invoiced.get(line["id"], (Decimal(line["invoiced_quantity"]),))[0]
        == Decimal(line["quantity"])
        for line in order_lines
    )

    created_at = now()
    row = {
        "id": new_id(),
        "number": await repository.next_number(connection),
        "order_id": order["id"],
        "currency": currency,
        "subtotal": invoice_totals.subtotal,
        "taxes": serialize.dumps_taxes(invoice_totals.taxes),
        "tax_total": invoice_totals.tax_total,
        "total": invoice_totals.total,
        "meta_fields": serialize.dumps_meta_fields(payload.metaFields),
        **serialize.authored(caller, created_at),
    }
    await repository.insert(
        connection,
        row,
        [
            {**li, "invoice_id": row["id"], "position": position}
            for position, li in enumerate(lines)
        ],
    )
    await orders.record_invoiced(connection, order["id"], invoiced, fully_invoiced, created_at)
    return to_json(row, lines, [])


def _pick(order_lines: list[Row], requested: list[InvoiceLineIn]) -> list[tuple[Row, Decimal]]:
    by_id = {line["id"]: line for line in order_lines}
    picked: list[tuple[Row, Decimal]] = []
    seen: set[str] = set()
    for index, item in enumerate(requested):
        field = f"lineItems[{index}]"
        line = by_id.get(item.lineItemId)
        if line is None:
            raise _invalid(
                f"{field}.lineItemId", f"{item.lineItemId} is not a line item of this order"
            )
        if item.lineItemId in seen:
            raise _invalid(f"{field}.lineItemId", f"{item.lineItemId} is listed more than once")
        seen.add(item.lineItemId)
        left = remaining(line)[0]
        if item.quantity > left:
            raise _invalid(
                f"{field}.quantity",
                f"{number(item.quantity)} exceeds the {number(left)} left to invoice "
                f"on line item {item.lineItemId}",
            )
        picked.append((line, item.quantity))
    return picked


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field} {message}", errors=[{"field": field, "message": message}])


async def get(connection: Connection, invoice_id: str) -> dict[str, Any]:
    row = await get_or_404(partial(repository.get, connection), invoice_id, INVOICE_NOT_FOUND)
    return await _whole(connection, row)


async def get_with_lines(connection: Connection, invoice_id: str) -> tuple[Row, list[Row]]:
    """The invoice's stored row and lines; 404 when there is none."""
    row = await get_or_404(partial(repository.get, connection), invoice_id, INVOICE_NOT_FOUND)
    return row, await repository.lines(connection, row["id"])


async def list_page(
    connection: Connection, limit: int, cursor: str | None, order_id: str | None
) -> bytes:
    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.page(connection, before, count, order_id)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        ids = [row["id"] for row in rows]
        lines: dict[str, list[Row]] = defaultdict(list)
        for line in await repository.lines_of(connection, ids):
            lines[line["invoice_id"]].append(line)
        mails: dict[str, list[Row]] = defaultdict(list)
        for mail in await repository.mails_of(connection, ids):
            mails[mail["invoice_id"]].append(mail)
        return [to_json(row, lines[row["id"]], mails[row["id"]]) for row in rows]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def update_meta_fields(
    connection: Connection, invoice_id: str, meta_fields: list[MetaField]
) -> dict[str, Any]:
    dumped = serialize.dumps_meta_fields(meta_fields)
    row = await get_or_404(
        lambda id: repository.update_meta_fields(connection, id, dumped, now()),
        invoice_id,
        INVOICE_NOT_FOUND,
    )
    return await _whole(connection, row)


async def record_sent(connection: Connection, invoice_id: str, recipient: str) -> dict[str, Any]:
    """Append a sent mail (and bump updatedAt) once the mail server accepted it."""
    row = await get_or_404(
        lambda id: repository.record_mail(connection, id, recipient, now()),
        invoice_id,
        INVOICE_NOT_FOUND,
    )
    return await _whole(connection, row)


async def _whole(connection: Connection, row: Row) -> dict[str, Any]:
    """The invoice of `row` with its lines and mails."""
    lines = await repository.lines(connection, row["id"])
    return to_json(row, lines, await repository.mails(connection, row["id"]))


def to_json(row: Row, lines: Sequence[Row], mails: Sequence[Row]) -> dict[str, Any]:
    money = serialize.money
    return {
        **serialize.identity(row),
        "order": row["order_id"],
        "entityId": str(row["number"]),
        "currency": row["currency"],
        "lineItems": [
            {
                "id": line["id"],
                "lineItemId": line["order_line_id"],
                "quantity": money(line["quantity"]),
                "name": line["name"],
                "sku": line["sku"],
                "unitPrice": money(line["unit_price"]),
                "taxRate": money(line["tax_rate"]),
                "amount": money(line["amount"]),
            }
            for line in lines
        ],
        **serialize.totals(row),
        "metaFields": serialize.meta_fields(row["meta_fields"]),
        "mailsSent": [{"sentTo": m["sent_to"], "sentAt": iso(m["sent_at"])} for m in mails],
        **serialize.authorship(row),
    }
