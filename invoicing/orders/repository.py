from collections.abc import Sequence
from functools import cache
from typing import Any

from invoicing.db.base import Connection, Row
from invoicing.db.query import Insert, Query, contains, placeholders
from invoicing.seller import repository as seller

_ORDER_COLUMNS = (
    "seq, id, customer_name, customer_email, customer, deliver_to, currency, subtotal, taxes, "
    "tax_total, total, billed_taxes, status, meta_fields, created_by_id, created_by_name, "
    "created_by_type, created_at, updated_at"
)
_LINE_COLUMNS = (
    "id, order_id, name, sku, quantity, unit_code, unit_price, tax_category, tax_rate, "
    "exemption_reason, exemption_reason_code, amount, invoiced_quantity, invoiced_amount"
)

INSERT_ORDER = Insert(
    "orders",
    (
        "id", "customer_name", "customer_email", "customer", "deliver_to", "currency",
        "subtotal", "taxes", "tax_total", "total", "billed_taxes", "status", "meta_fields",
        "created_by_id", "created_by_name", "created_by_type", "created_at", "updated_at",
    ),
)  # fmt: skip
INSERT_LINE = Insert(
    "order_lines",
    (
        "id", "order_id", "position", "name", "sku", "quantity", "unit_code", "unit_price",
        "tax_category", "tax_rate", "exemption_reason", "exemption_reason_code", "amount",
        "invoiced_quantity", "invoiced_amount",
    ),
)  # fmt: skip
_GET = Query(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = $1")
# PostgreSQL locks only the orders row: the seller profile's scalar subqueries lock nothing.
_LOCK_WITH_SELLER = Query(
    f"SELECT {_ORDER_COLUMNS}, {seller.COLUMNS_ALONGSIDE} FROM orders WHERE id = $1 FOR UPDATE"
)
_LINES = Query(f"SELECT {_LINE_COLUMNS} FROM order_lines WHERE order_id = $1 ORDER BY position")


@cache
def _page(by_status: bool, by_customer: bool) -> Query:
    """A keyset page, `$1` the seq to start below, `$2` the limit, then the filters given."""
    where = ["seq < $1"]
    if by_status:
        where.append(f"status = ${len(where) + 2}")
    if by_customer:
        where.append(f"LOWER(customer) LIKE ${len(where) + 2} ESCAPE '!'")
    return Query(
        f"SELECT {_ORDER_COLUMNS} FROM orders WHERE {' AND '.join(where)} "
        "ORDER BY seq DESC LIMIT $2"
    )


_UPDATE_LINE = Query(
    "UPDATE order_lines SET invoiced_quantity = $2, invoiced_amount = $3 WHERE id = $1"
)
_UPDATE_BILLED = Query(
    "UPDATE orders SET billed_taxes = $2, status = $3, updated_at = $4 WHERE id = $1"
)


@cache
def _lines_of(count: int) -> Query:
    return Query(
        f"SELECT {_LINE_COLUMNS} FROM order_lines WHERE order_id IN ({placeholders(count)}) "
        "ORDER BY order_id, position"
    )


async def insert(connection: Connection, order: Row, lines: Sequence[Row]) -> None:
    await connection.execute(INSERT_ORDER.query, *INSERT_ORDER.values(order))
    await connection.executemany(INSERT_LINE.query, [INSERT_LINE.values(line) for line in lines])


async def get(connection: Connection, order_id: str) -> Row | None:
    return await connection.fetchrow(_GET, order_id)


async def lock_with_seller(connection: Connection, order_id: str) -> Row | None:
    """The order's row, locked until the transaction ends, with the seller profile's columns
    (`seller.COLUMNS_ALONGSIDE`) that the invoice or credit note made from it copies."""
    return await connection.fetchrow(_LOCK_WITH_SELLER, order_id)


async def lines(connection: Connection, order_id: str) -> list[Row]:
    return await connection.fetch(_LINES, order_id)


async def page(
    connection: Connection, before: int, limit: int, status: str | None, customer: str | None = None
) -> list[Row]:
    """`customer`: text anywhere in the customer (name, email, VAT id, address), any case."""
    if customer is not None and not customer.isprintable():
        return []  # no customer holds a control character, and a NUL would be an error
    values = [v for v in (status, None if customer is None else contains(customer)) if v]
    return await connection.fetch(
        _page(status is not None, customer is not None), before, limit, *values
    )


async def lines_of(connection: Connection, order_ids: list[str]) -> list[Row]:
    if not order_ids:
        return []
    return await connection.fetch(_lines_of(len(order_ids)), *order_ids)


async def record_billed(
    connection: Connection,
    updates: list[Sequence[Any]],
    order_id: str,
    billed_taxes: str,
    status: str,
    at: Any,
) -> None:
    await connection.executemany(_UPDATE_LINE, updates)
    await connection.execute(_UPDATE_BILLED, order_id, billed_taxes, status, at)
