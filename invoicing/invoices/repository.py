from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any

from invoicing.core.ids import is_id
from invoicing.db.base import Connection, Row
from invoicing.db.query import Insert, Query, contains, exact_sum, placeholders
from invoicing.webhooks import events

# The columns every invoice query here returns, in this order (`service.to_json` reads the rows
# it is given by position).
FIELDS = (
    "seq", "id", "entity_id", "number", "order_id", "currency", "issue_date", "due_date",
    "delivery_date", "deliver_to", "seller", "customer", "subtotal", "taxes", "tax_total", "total",
    "paid_total", "credited_total", "credited_taxes", "amount_due", "status", "meta_fields",
    "created_by_id", "created_by_name", "created_by_type", "created_at", "updated_at",
)  # fmt: skip
LINE_FIELDS = (
    "id", "invoice_id", "order_line_id", "name", "sku", "quantity", "unit_code", "unit_price",
    "tax_category", "tax_rate", "exemption_reason", "exemption_reason_code", "amount",
    "credited_quantity", "credited_amount",
)  # fmt: skip
_COLUMNS = ", ".join(FIELDS)
_LINE_COLUMNS = ", ".join(LINE_FIELDS)

INSERT_INVOICE = Insert(
    "invoices",
    (
        "id", "entity_id", "number", "order_id", "currency", "issue_date", "due_date",
        "delivery_date", "deliver_to", "seller", "customer", "subtotal", "taxes", "tax_total",
        "total", "paid_total", "credited_total", "credited_taxes", "amount_due", "status",
        "meta_fields", "created_by_id", "created_by_name", "created_by_type", "created_at",
        "updated_at",
    ),
)  # fmt: skip
INSERT_LINE = Insert(
    "invoice_lines",
    (
        "id", "invoice_id", "position", "order_line_id", "name", "sku", "quantity", "unit_code",
        "unit_price", "tax_category", "tax_rate", "exemption_reason", "exemption_reason_code",
        "amount", "credited_quantity", "credited_amount",
    ),
)  # fmt: skip
_GET = Query(f"SELECT {_COLUMNS} FROM invoices WHERE id = $1")
_LOCK = Query(f"SELECT {_COLUMNS} FROM invoices WHERE id = $1 FOR UPDATE")
# An invoice as its GET reads it: its columns, then whether it was ever mailed, so
# that an invoice never sent, the usual one, needs no query for its mails (~2.5 µs a GET on
# SQLite, a round trip on PostgreSQL).
_GET_MAILED = Query(
    f"SELECT {_COLUMNS}, EXISTS (SELECT 1 FROM invoice_mails WHERE invoice_id = invoices.id) "
    "FROM invoices WHERE id = $1"
)
_MAILED = itemgetter(len(FIELDS))
_LINES = Query(f"SELECT {_LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = $1 ORDER BY position")
# The lines as `service.to_json` shows them: `LINE_FIELDS` up to the credited ones, which come
# last, so that these rows and `lines`' share their positions (two columns less to read and
# convert per line, ~1 µs a GET on SQLite).
_SHOWN_LINES = Query(
    f"SELECT {', '.join(LINE_FIELDS[: LINE_FIELDS.index('credited_quantity')])} "
    "FROM invoice_lines WHERE invoice_id = $1 ORDER BY position"
)
_MAILS = Query(
    "SELECT invoice_id, sent_to, sent_at FROM invoice_mails WHERE invoice_id = $1 ORDER BY seq"
)
_IDS_OF_ORDER = Query("SELECT id FROM invoices WHERE order_id = $1 ORDER BY seq")
_UPDATE_META = Query(
    f"UPDATE invoices SET meta_fields = $2, updated_at = $3 WHERE id = $1 RETURNING {_COLUMNS}"
)
_INSERT_MAIL = Query("INSERT INTO invoice_mails (invoice_id, sent_to, sent_at) VALUES ($1, $2, $3)")
_TOUCH = Query(f"UPDATE invoices SET updated_at = $2 WHERE id = $1 RETURNING {_COLUMNS}")
_SETTLE = Query(
    "UPDATE invoices SET paid_total = $2, credited_total = $3, credited_taxes = $4, "
    "amount_due = $5, status = $6, updated_at = $7 WHERE id = $1"
)
_CREDIT_LINE = Query(
    "UPDATE invoice_lines SET credited_quantity = $2, credited_amount = $3 WHERE id = $1"
)


@dataclass(frozen=True, slots=True)
class Filters:
    """`GET /invoices` filters; all given ones must hold."""

    order_id: str | None = None
    status: str | None = None
    number: str | None = None
    overdue: bool | None = None
    # Text anywhere in the customer's copy (name, email, VAT id, address), any case.
    customer: str | None = None


@cache
def _page(filters: tuple[str, ...]) -> Query:
    """A keyset page's query, `$1` the seq to start below, `$2` the limit, then the filters."""
    where = ["seq < $1"]
    for index, name in enumerate(filters, start=3):
        if name == "overdue":
            # CAST: SQLite keeps money as text, where '0.00' > 0 would hold.
            where.append(f"CAST(amount_due AS NUMERIC) > 0 AND due_date < ${index}")
        elif name == "not_overdue":
            where.append(f"NOT (CAST(amount_due AS NUMERIC) > 0 AND due_date < ${index})")
        elif name == "customer":
            where.append(f"LOWER(customer) LIKE ${index} ESCAPE '!'")
        else:
            where.append(f"{name} = ${index}")
    return Query(
        f"SELECT {_COLUMNS} FROM invoices WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT $2"
    )


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


# The invoice's INSERT writes its `invoice.created` event too: on PostgreSQL in the same
# statement, one round trip less inside the numbering lock.
_INSERT_EMITTING = events.Emitting(INSERT_INVOICE.query, len(INSERT_INVOICE.columns))


async def insert(connection: Connection, invoice: Row, lines: Sequence[Row], created: Any) -> None:
    """The invoice, its lines, and its `invoice.created` event about `created` (the invoice as
    its GET shows it)."""
    values = INSERT_INVOICE.values(invoice)
    await _INSERT_EMITTING.execute(connection, values, "invoice.created", created)
    await connection.executemany(INSERT_LINE.query, [INSERT_LINE.values(line) for line in lines])


async def get(connection: Connection, invoice_id: str, *, lock: bool = False) -> Row | None:
    return await connection.fetchrow(_LOCK if lock else _GET, invoice_id)


async def get_mailed(connection: Connection, invoice_id: str) -> tuple[Row, bool] | None:
    """The invoice's row (`FIELDS`, and one column more) and whether it has any mail (`mails`)."""
    row = await connection.fetchrow(_GET_MAILED, invoice_id)
    return None if row is None else (row, bool(_MAILED(row)))


async def lines(connection: Connection, invoice_id: str) -> list[Row]:
    return await connection.fetch(_LINES, invoice_id)


async def shown_lines(connection: Connection, invoice_id: str) -> list[Row]:
    """`lines` without their credited quantity and amount, which an invoice's JSON does not show."""
    return await connection.fetch(_SHOWN_LINES, invoice_id)


async def mails(connection: Connection, invoice_id: str) -> list[Row]:
    return await connection.fetch(_MAILS, invoice_id)


async def ids_of_order(connection: Connection, order_id: str) -> list[str]:
    return [row["id"] for row in await connection.fetch(_IDS_OF_ORDER, order_id)]


async def page(
    connection: Connection, before: int, limit: int, filters: Filters, today: date
) -> list[Row]:
    if filters.order_id is not None and not is_id(filters.order_id):
        # No order has a malformed id; and PostgreSQL would refuse some (a NUL) with an error.
        return []
    if filters.number is not None and not filters.number.isprintable():
        return []  # no number has a control character (NumberFormat), and a NUL would be an error
    names: list[str] = []
    values: list[object] = []
    for name, value in (
        ("order_id", filters.order_id),
        ("status", filters.status),
        ("number", filters.number),
    ):
        if value is not None:
            names.append(name)
            values.append(value)
    if filters.overdue is not None:
        names.append("overdue" if filters.overdue else "not_overdue")
        values.append(today)
    if filters.customer:
        if not filters.customer.isprintable():
            return []
        names.append("customer")
        values.append(contains(filters.customer))
    return await connection.fetch(_page(tuple(names)), before, limit, *values)


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


async def record_settlement(
    connection: Connection,
    invoice_id: str,
    paid_total: Decimal,
    credited_total: Decimal,
    credited_taxes: str,
    amount_due: Decimal,
    status: str,
    at: datetime,
) -> None:
    await connection.execute(
        _SETTLE, invoice_id, paid_total, credited_total, credited_taxes, amount_due, status, at
    )


async def record_credited_lines(
    connection: Connection, updates: Sequence[tuple[str, Decimal, Decimal]]
) -> None:
    """Each invoice line's new (credited quantity, credited amount)."""
    await connection.executemany(_CREDIT_LINE, updates)


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


_pg_due, _sqlite_due = exact_sum("amount_due")
_DUE_SQL = (
    "SELECT currency, COUNT(*) AS count, {due} AS due, "
    "SUM(CASE WHEN due_date < $1 THEN 1 ELSE 0 END) AS overdue_count, "
    "{overdue} AS overdue FROM invoices WHERE CAST(amount_due AS NUMERIC) > 0 "
    "GROUP BY currency ORDER BY currency"
)
_DUE_TOTALS = Query(
    _DUE_SQL.format(
        due=_pg_due,
        overdue="SUM(CASE WHEN due_date < $1 THEN amount_due ELSE 0 END)",
    ),
    sqlite=_DUE_SQL.format(
        due=_sqlite_due,
        overdue=exact_sum("CASE WHEN due_date < $1 THEN amount_due ELSE '0' END")[1],
    ),
)


async def due_totals(connection: Connection, today: date) -> list[dict[str, object]]:
    """Per currency: how many invoices have something due and how much, and of those how many
    and how much are overdue (exact decimals on both databases)."""
    rows = await connection.fetch(_DUE_TOTALS, today)
    scale = Decimal(10000) if connection.dialect == "sqlite" else Decimal(1)
    return [
        {
            "currency": row["currency"],
            "count": row["count"],
            "due": Decimal(row["due"]) / scale,
            "overdue_count": row["overdue_count"],
            "overdue": Decimal(row["overdue"]) / scale,
        }
        for row in rows
    ]
