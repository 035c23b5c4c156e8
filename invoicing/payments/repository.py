from datetime import date
from decimal import Decimal
from functools import cache

from invoicing.db.base import Connection, Row
from invoicing.db.query import Insert, Query, exact_sum, placeholders

INSERT_PAYMENT = Insert(
    "payments",
    (
        "id", "invoice_id", "amount", "currency", "paid_at", "method", "reference",
        "created_by_id", "created_by_name", "created_by_type", "created_at",
    ),
)  # fmt: skip
_COLUMNS = (
    "id, invoice_id, amount, currency, paid_at, method, reference, created_by_id, "
    "created_by_name, created_by_type, created_at"
)


@cache
def _of_invoices(count: int) -> Query:
    return Query(
        f"SELECT {_COLUMNS} FROM payments WHERE invoice_id IN ({placeholders(count)}) ORDER BY seq"
    )


async def insert(connection: Connection, payment: Row) -> None:
    await connection.execute(INSERT_PAYMENT.query, *INSERT_PAYMENT.values(payment))


async def of_invoices(connection: Connection, invoice_ids: list[str]) -> list[Row]:
    """The payments of these invoices, oldest first."""
    if not invoice_ids:
        return []
    return await connection.fetch(_of_invoices(len(invoice_ids)), *invoice_ids)


_PAID_SINCE = Query(
    "SELECT currency, COUNT(*) AS count, {} AS paid FROM payments WHERE paid_at >= $1 "
    "GROUP BY currency ORDER BY currency".format(exact_sum("amount")[0]),
    sqlite="SELECT currency, COUNT(*) AS count, {} AS paid FROM payments WHERE paid_at >= $1 "
    "GROUP BY currency ORDER BY currency".format(exact_sum("amount")[1]),
)


async def paid_since(connection: Connection, since: date) -> list[dict[str, object]]:
    """Per currency: the payments received on or after `since`, counted and summed exactly."""
    scale = Decimal(10000) if connection.dialect == "sqlite" else Decimal(1)
    return [
        {"currency": row["currency"], "count": row["count"], "paid": Decimal(row["paid"]) / scale}
        for row in await connection.fetch(_PAID_SINCE, since)
    ]
