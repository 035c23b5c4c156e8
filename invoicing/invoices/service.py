"""Invoices: gapless numbers, never beyond what was ordered, financial content fixed at creation."""

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from invoicing.auth.principal import Principal
from invoicing.core.errors import Conflict, NotFound, ValidationFailed
from invoicing.core.ids import is_id, new_id
from invoicing.core.money import line_amount, number, totals
from invoicing.core.times import iso, now
from invoicing.db.base import Connection, Row
from invoicing.invoices import repository
from invoicing.invoices.schemas import InvoiceCreate, InvoiceLineIn
from invoicing.orders import repository as orders
from invoicing.orders.service import ORDER_NOT_FOUND, remaining
from invoicing.web import serialize
from invoicing.web.pagination import decode_cursor, page
from invoicing.web.schemas import MetaField

INVOICE_NOT_FOUND = "Invoice not found"
FULLY_INVOICED = "Order is already fully invoiced"


async def create(
    connection: Connection, caller: Principal, payload: InvoiceCreate
) -> dict[str, Any]:
    """Must run in a write transaction: the order stays locked until it ends."""
    order = (
        await orders.get(connection, payload.orderId, lock=True) if is_id(payload.orderId) else None
    )
    if order is None:
        raise NotFound(ORDER_NOT_FOUND)
    order_lines = await orders.lines(connection, order["id"])
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
        [row[column] for column in repository.INSERT_COLUMNS],
        [
            (
                li["id"],
                row["id"],
                position,
                li["order_line_id"],
                li["name"],
                li["sku"],
                li["quantity"],
                li["unit_price"],
                li["tax_rate"],
                li["amount"],
            )
            for position, li in enumerate(lines)
        ],
    )
    await orders.record_invoiced(
        connection,
        [(line_id, quantity, amount) for line_id, (quantity, amount) in invoiced.items()],
        order["id"],
        "invoiced" if fully_invoiced else "partially_invoiced",
        created_at,
    )
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
    row = await repository.get(connection, invoice_id) if is_id(invoice_id) else None
    return await _whole(connection, row)


async def list_page(
    connection: Connection, limit: int, cursor: str | None, order_id: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    rows = await repository.page(connection, decode_cursor(cursor), limit + 1, order_id)
    next_cursor = page([row["seq"] for row in rows], limit)
    rows = rows[:limit]
    ids = [row["id"] for row in rows]
    lines: dict[str, list[Row]] = defaultdict(list)
    for line in await repository.lines_of(connection, ids):
        lines[line["invoice_id"]].append(line)
    mails: dict[str, list[Row]] = defaultdict(list)
    for mail in await repository.mails_of(connection, ids):
        mails[mail["invoice_id"]].append(mail)
    return [to_json(row, lines[row["id"]], mails[row["id"]]) for row in rows], next_cursor


async def update_meta_fields(
    connection: Connection, invoice_id: str, meta_fields: list[MetaField]
) -> dict[str, Any]:
    row = None
    if is_id(invoice_id):
        dumped = serialize.dumps_meta_fields(meta_fields)
        row = await repository.update_meta_fields(connection, invoice_id, dumped, now())
    return await _whole(connection, row)


async def record_sent(connection: Connection, invoice_id: str, recipient: str) -> dict[str, Any]:
    """Append a sent mail (and bump updatedAt) once the mail server accepted it."""
    return await _whole(
        connection, await repository.record_mail(connection, invoice_id, recipient, now())
    )


async def _whole(connection: Connection, row: Row | None) -> dict[str, Any]:
    """The invoice of `row` with its lines and mails; 404 when there is no row."""
    if row is None:
        raise NotFound(INVOICE_NOT_FOUND)
    lines = await repository.lines(connection, row["id"])
    return to_json(row, lines, await repository.mails(connection, row["id"]))


def to_json(row: Row, lines: Sequence[Row], mails: Sequence[Row]) -> dict[str, Any]:
    created_at, updated_at = serialize.timestamps(row)
    money = serialize.money
    return {
        "id": row["id"],
        "_id": row["id"],
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
        "subtotal": money(row["subtotal"]),
        "taxes": serialize.taxes(row["taxes"]),
        "taxTotal": money(row["tax_total"]),
        "total": money(row["total"]),
        "createdBy": serialize.creator(row),
        "metaFields": serialize.meta_fields(row["meta_fields"]),
        "mailsSent": [{"sentTo": m["sent_to"], "sentAt": iso(m["sent_at"])} for m in mails],
        "createdAt": created_at,
        "updatedAt": updated_at,
    }
