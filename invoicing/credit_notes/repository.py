from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from invoicing.core.ids import is_id
from invoicing.db.base import Connection, Row
from invoicing.db.query import Insert, Query, placeholders

# The credited invoice's number comes along: every view of a credit note shows it.
_COLUMNS = (
    "c.seq, c.id, c.entity_id, c.number, c.invoice_id, i.number AS invoice_number, "
    "i.issue_date AS invoice_issue_date, i.deliver_to, c.order_id, "
    "c.currency, c.issue_date, c.reason, c.seller, c.customer, c.subtotal, c.taxes, "
    "c.tax_total, c.total, c.meta_fields, c.created_by_id, c.created_by_name, "
    "c.created_by_type, c.created_at, c.updated_at"
)
_FROM = "credit_notes c JOIN invoices i ON i.id = c.invoice_id"
_LINE_COLUMNS = (
    "id, credit_note_id, invoice_line_id, order_line_id, name, sku, quantity, unit_code, "
    "unit_price, tax_category, tax_rate, exemption_reason, exemption_reason_code, amount"
)

INSERT_CREDIT_NOTE = Insert(
    "credit_notes",
    (
        "id", "entity_id", "number", "invoice_id", "order_id", "currency", "issue_date",
        "reason", "seller", "customer", "subtotal", "taxes", "tax_total", "total",
        "meta_fields", "created_by_id", "created_by_name", "created_by_type", "created_at",
        "updated_at",
    ),
)  # fmt: skip
INSERT_LINE = Insert(
    "credit_note_lines",
    (
        "id", "credit_note_id", "position", "invoice_line_id", "order_line_id", "name", "sku",
        "quantity", "unit_code", "unit_price", "tax_category", "tax_rate", "exemption_reason",
        "exemption_reason_code", "amount",
    ),
)  # fmt: skip
_GET = Query(f"SELECT {_COLUMNS} FROM {_FROM} WHERE c.id = $1")
_LINES = Query(
    f"SELECT {_LINE_COLUMNS} FROM credit_note_lines WHERE credit_note_id = $1 ORDER BY position"
)
_MAILS = Query(
    "SELECT credit_note_id, sent_to, sent_at FROM credit_note_mails WHERE credit_note_id = $1 "
    "ORDER BY seq"
)
_UPDATE_META = Query("UPDATE credit_notes SET meta_fields = $2, updated_at = $3 WHERE id = $1")
_TOUCH = Query("UPDATE credit_notes SET updated_at = $2 WHERE id = $1")
_INSERT_MAIL = Query(
    "INSERT INTO credit_note_mails (credit_note_id, sent_to, sent_at) VALUES ($1, $2, $3)"
)
_RECENT_MAIL_TIMES = Query(
    "SELECT sent_at FROM credit_note_mails WHERE credit_note_id = $1 AND sent_at > $2 "
    "ORDER BY sent_at DESC LIMIT $3"
)


@dataclass(frozen=True, slots=True)
class Filters:
    invoice_id: str | None = None
    order_id: str | None = None


@cache
def _page(filters: tuple[str, ...]) -> Query:
    where = ["c.seq < $1", *(f"c.{name} = ${i}" for i, name in enumerate(filters, start=3))]
    return Query(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(where)} ORDER BY c.seq DESC LIMIT $2"
    )


@cache
def _lines_of(count: int) -> Query:
    return Query(
        f"SELECT {_LINE_COLUMNS} FROM credit_note_lines "
        f"WHERE credit_note_id IN ({placeholders(count)}) ORDER BY credit_note_id, position"
    )


@cache
def _mails_of(count: int) -> Query:
    return Query(
        "SELECT credit_note_id, sent_to, sent_at FROM credit_note_mails "
        f"WHERE credit_note_id IN ({placeholders(count)}) ORDER BY seq"
    )


async def insert(connection: Connection, note: Row, lines: Sequence[Row]) -> None:
    await connection.execute(INSERT_CREDIT_NOTE.query, *INSERT_CREDIT_NOTE.values(note))
    await connection.executemany(INSERT_LINE.query, [INSERT_LINE.values(line) for line in lines])


async def get(connection: Connection, credit_note_id: str) -> Row | None:
    return await connection.fetchrow(_GET, credit_note_id)


async def lines(connection: Connection, credit_note_id: str) -> list[Row]:
    return await connection.fetch(_LINES, credit_note_id)


async def mails(connection: Connection, credit_note_id: str) -> list[Row]:
    return await connection.fetch(_MAILS, credit_note_id)


async def page(connection: Connection, before: int, limit: int, filters: Filters) -> list[Row]:
    names: list[str] = []
    values: list[str] = []
    for name, value in (("invoice_id", filters.invoice_id), ("order_id", filters.order_id)):
        if value is not None:
            if not is_id(value):
                return []
            names.append(name)
            values.append(value)
    return await connection.fetch(_page(tuple(names)), before, limit, *values)


async def lines_of(connection: Connection, ids: list[str]) -> list[Row]:
    return await connection.fetch(_lines_of(len(ids)), *ids) if ids else []


async def mails_of(connection: Connection, ids: list[str]) -> list[Row]:
    return await connection.fetch(_mails_of(len(ids)), *ids) if ids else []


async def update_meta_fields(
    connection: Connection, credit_note_id: str, meta_fields: str, at: datetime
) -> Row | None:
    await connection.execute(_UPDATE_META, credit_note_id, meta_fields, at)
    return await get(connection, credit_note_id)


async def record_mail(
    connection: Connection, credit_note_id: str, sent_to: str, at: datetime
) -> Row | None:
    await connection.execute(_TOUCH, credit_note_id, at)
    row = await get(connection, credit_note_id)
    if row is not None:
        await connection.execute(_INSERT_MAIL, credit_note_id, sent_to, at)
    return row


async def recent_mail_times(
    connection: Connection, credit_note_id: str, since: datetime, limit: int
) -> list[datetime | str]:
    rows = await connection.fetch(_RECENT_MAIL_TIMES, credit_note_id, since, limit)
    return [row["sent_at"] for row in rows]
