from collections.abc import Sequence
from datetime import datetime
from functools import cache

from invoicing.core.ids import is_id
from invoicing.db.base import Connection, Row
from invoicing.db.query import Insert, Query, placeholders

_COLUMNS = (
    "seq, id, number, order_id, currency, subtotal, taxes, tax_total, total, meta_fields, "
    "created_by_id, created_by_name, created_by_type, created_at, updated_at"
)
_LINE_COLUMNS = "id, invoice_id, order_line_id, name, sku, quantity, unit_price, tax_rate, amount"

_NEXT_NUMBER = Query("UPDATE counters SET value = value + 1 WHERE name = 'invoice' RETURNING value")
INSERT_INVOICE = Insert(
    "invoices",
    (
        "id", "number", "order_id", "currency", "subtotal", "taxes", "tax_total", "total",
        "meta_fields", "created_by_id", "created_by_name", "created_by_type", "created_at",
        "updated_at",
    ),
)  # fmt: skip
INSERT_LINE = Insert(
    "invoice_lines",
    (
        "id", "invoice_id", "position", "order_line_id", "name", "sku", "quantity", "unit_price",
        "tax_rate", "amount",
    ),
)  # fmt: skip
_GET = Query(f"SELECT {_COLUMNS} FROM invoices WHERE id = $1")
_LINES = Query(f"SELECT {_LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = $1 ORDER BY position")
_MAILS = Query(
    "SELECT invoice_id, sent_to, sent_at FROM invoice_mails WHERE invoice_id = $1 ORDER BY seq"
)
_PAGE = Query(f"SELECT {_COLUMNS} FROM invoices WHERE seq < $1 ORDER BY seq DESC LIMIT $2")
_PAGE_BY_ORDER = Query(
    f"SELECT {_COLUMNS} FROM invoices WHERE order_id = $3 AND seq < $1 ORDER BY seq DESC LIMIT $2"
)
_UPDATE_META = Query(
    f"UPDATE invoices SET meta_fields = $2, updated_at = $3 WHERE id = $1 RETURNING {_COLUMNS}"
)
_INSERT_MAIL = Query("INSERT INTO invoice_mails (invoice_id, sent_to, sent_at) VALUES ($1, $2, $3)")
_TOUCH = Query(f"UPDATE invoices SET updated_at = $2 WHERE id = $1 RETURNING {_COLUMNS}")


@cache
def _lines_of(count: int) -> Query:
    return Query(
        f"SELECT {_LINE_COLUMNS} FROM invoice_lines WHERE invoice_id IN ({placeholders(count)}) "
        "ORDER BY invoice_id, position"
    )


@cache
def _mails_of(count: int) -> Query:
    return Query(
        "SELECT invoice_id, sent_to, sent_at FROM invoice_mails "
        f"WHERE invoice_id IN ({placeholders(count)}) ORDER BY seq"
    )


async def next_number(connection: Connection) -> int:
    """The next invoice number; the counter row stays locked until the transaction ends."""
    return int(await connection.fetchval(_NEXT_NUMBER))


async def insert(connection: Connection, invoice: Row, lines: Sequence[Row]) -> None:
    await connection.execute(INSERT_INVOICE.query, *INSERT_INVOICE.values(invoice))
    await connection.executemany(INSERT_LINE.query, [INSERT_LINE.values(line) for line in lines])


async def get(connection: Connection, invoice_id: str) -> Row | None:
    return await connection.fetchrow(_GET, invoice_id)


async def lines(connection: Connection, invoice_id: str) -> list[Row]:
    return await connection.fetch(_LINES, invoice_id)


async def mails(connection: Connection, invoice_id: str) -> list[Row]:
    return await connection.fetch(_MAILS, invoice_id)


async def page(connection: Connection, before: int, limit: int, order_id: str | None) -> list[Row]:
    if order_id is None:
        return await connection.fetch(_PAGE, before, limit)
    if not is_id(order_id):
        # No order has a malformed id; and PostgreSQL would refuse some (a NUL) with an error.
        return []
    return await connection.fetch(_PAGE_BY_ORDER, before, limit, order_id)


async def lines_of(connection: Connection, invoice_ids: list[str]) -> list[Row]:
    return await connection.fetch(_lines_of(len(invoice_ids)), *invoice_ids) if invoice_ids else []


async def mails_of(connection: Connection, invoice_ids: list[str]) -> list[Row]:
    return await connection.fetch(_mails_of(len(invoice_ids)), *invoice_ids) if invoice_ids else []


async def update_meta_fields(
    connection: Connection, invoice_id: str, meta_fields: str, at: datetime
) -> Row | None:
    return await connection.fetchrow(_UPDATE_META, invoice_id, meta_fields, at)


async def record_mail(
    connection: Connection, invoice_id: str, sent_to: str, at: datetime
) -> Row | None:
    row = await connection.fetchrow(_TOUCH, invoice_id, at)
    if row is not None:
        await connection.execute(_INSERT_MAIL, invoice_id, sent_to, at)
    return row


_RECENT_MAIL_TIMES = Query(
    "SELECT sent_at FROM invoice_mails WHERE invoice_id = $1 AND sent_at > $2 "
    "ORDER BY sent_at DESC LIMIT $3"
)


async def recent_mail_times(
    connection: Connection, invoice_id: str, since: datetime, limit: int
) -> list[datetime | str]:
    """When the invoice's latest mails after `since` were sent (at most `limit`), newest first:
    datetimes from PostgreSQL, ISO 8601 text from SQLite."""
    rows = await connection.fetch(_RECENT_MAIL_TIMES, invoice_id, since, limit)
    return [row["sent_at"] for row in rows]
