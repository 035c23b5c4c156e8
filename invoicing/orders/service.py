"""Orders: what a customer bought, with exact per-line nets and per-rate taxes."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from invoicing.auth.principal import Principal
from invoicing.core.errors import ValidationFailed
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.money import MAX_AMOUNT, ZERO, line_amount, totals
from invoicing.core.times import now
from invoicing.db.base import Connection, Row
from invoicing.orders import repository
from invoicing.orders.schemas import OrderCreate
from invoicing.web import pagination, serialize

ORDER_NOT_FOUND = "Order not found"


async def create(
    connection: Connection, caller: Principal, payload: OrderCreate, default_currency: str
) -> dict[str, Any]:
    currency = payload.currency or default_currency
    amounts = [line_amount(li.quantity, li.unitPrice, currency) for li in payload.lineItems]
    order_totals = totals(
        zip(amounts, (li.taxRate for li in payload.lineItems), strict=True), currency
    )
    if order_totals.total >= MAX_AMOUNT:
        raise ValidationFailed(
            f"lineItems: the order total must be below {MAX_AMOUNT:f}",
            errors=[{"field": "lineItems", "message": f"total must be below {MAX_AMOUNT:f}"}],
        )
    order_id, created_at = new_id(), now()
    customer = payload.customer
    order = {
        "id": order_id,
        "customer_name": customer.name,
        "customer_email": customer.email,
        "customer_address": customer.address,
        "currency": currency,
        "subtotal": order_totals.subtotal,
        "taxes": serialize.dumps_taxes(order_totals.taxes),
        "tax_total": order_totals.tax_total,
        "total": order_totals.total,
        "status": "open",
        "meta_fields": serialize.dumps_meta_fields(payload.metaFields),
        **serialize.authored(caller, created_at),
    }
    lines = [
        {
            "id": new_id(),
            "order_id": order_id,
            "position": position,
            "name": li.name,
            "sku": li.sku,
            "quantity": li.quantity,
            "unit_price": li.unitPrice,
            "tax_rate": li.taxRate,
            "amount": amount,
            "invoiced_quantity": ZERO,
            "invoiced_amount": ZERO,
        }
        for position, (li, amount) in enumerate(zip(payload.lineItems, amounts, strict=True))
    ]
    await repository.insert(connection, order, lines)
    return to_json(order, lines)


async def get(connection: Connection, order_id: str) -> dict[str, Any]:
    row = await get_or_404(partial(repository.get, connection), order_id, ORDER_NOT_FOUND)
    return to_json(row, await repository.lines(connection, order_id))


async def list_page(
    connection: Connection, limit: int, cursor: str | None, status: str | None
) -> bytes:
    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.page(connection, before, count, status)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        lines_by_order: dict[str, list[Row]] = defaultdict(list)
        for line in await repository.lines_of(connection, [row["id"] for row in rows]):
            lines_by_order[line["order_id"]].append(line)
        return [to_json(row, lines_by_order[row["id"]]) for row in rows]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def lock_for_invoicing(connection: Connection, order_id: str) -> tuple[Row, list[Row]]:
    """The order and its lines, locked until the transaction ends (so that two invoices cannot
    both take what is left); 404 when there is no such order."""
    order = await get_or_404(
        partial(repository.get, connection, lock=True), order_id, ORDER_NOT_FOUND
    )
    return order, await repository.lines(connection, order["id"])


async def record_invoiced(
    connection: Connection,
    order_id: str,
    invoiced: dict[str, tuple[Decimal, Decimal]],
    fully_invoiced: bool,
    at: datetime,
) -> None:
    """Store each line's new invoiced (quantity, net amount) and the order's new status."""
    await repository.record_invoiced(
        connection,
        [(line_id, quantity, amount) for line_id, (quantity, amount) in invoiced.items()],
        order_id,
        "invoiced" if fully_invoiced else "partially_invoiced",
        at,
    )


async def customer(connection: Connection, order_id: str) -> dict[str, Any]:
    """The customer of an order, as the order shows it."""
    order = await get_or_404(partial(repository.get, connection), order_id, ORDER_NOT_FOUND)
    return _customer(order)


def _customer(row: Row) -> dict[str, Any]:
    return {
        "name": row["customer_name"],
        "email": row["customer_email"],
        "address": row["customer_address"],
    }


def to_json(row: Row, lines: Sequence[Row]) -> dict[str, Any]:
    money = serialize.money
    return {
        **serialize.identity(row),
        "customer": _customer(row),
        "currency": row["currency"],
        "lineItems": [
            {
                "id": line["id"],
                "name": line["name"],
                "sku": line["sku"],
                "quantity": money(line["quantity"]),
                "unitPrice": money(line["unit_price"]),
                "taxRate": money(line["tax_rate"]),
                "amount": money(line["amount"]),
                "invoicedQuantity": money(line["invoiced_quantity"]),
            }
            for line in lines
        ],
        **serialize.totals(row),
        "status": row["status"],
        "metaFields": serialize.meta_fields(row["meta_fields"]),
        **serialize.authorship(row),
    }


def remaining(line: Row) -> tuple[Decimal, Decimal]:
    """What is left to invoice on an order line: (quantity, net amount)."""
    return (
        Decimal(line["quantity"]) - Decimal(line["invoiced_quantity"]),
        Decimal(line["amount"]) - Decimal(line["invoiced_amount"]),
    )
