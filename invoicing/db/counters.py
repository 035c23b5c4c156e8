"""Gapless sequences: one row per sequence in `counters`, taken inside the caller's transaction.

The upsert locks the row until the transaction ends, so concurrent creates in one sequence wait
for each other and a rolled-back create gives its value back; a sequence's row is made by its
first value."""

from datetime import date

from invoicing.core.numbering import NumberFormat
from invoicing.db.base import Connection
from invoicing.db.query import Query

# Two sequences in one statement, locked in the order given (so every caller locks them alike).
_NEXT_TWO = Query(
    "INSERT INTO counters (name, value) VALUES ($1, 1), ($2, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING name, value"
)


async def document_numbers(
    connection: Connection, kind: str, number_format: NumberFormat, issued: date
) -> tuple[int, str]:
    """A new document's `entityId` (the plain counter of its kind) and its number in the series
    its format names for its issue date. One statement for both: on PostgreSQL one round trip
    less while the numbering lock is held (the plain counter's row is locked first, as before)."""
    series = f"{kind}:{number_format.series(issued)}"
    taken = await connection.fetch(_NEXT_TWO, kind, series)
    values = {row["name"]: int(row["value"]) for row in taken}
    return values[kind], number_format.number(issued, values[series])
