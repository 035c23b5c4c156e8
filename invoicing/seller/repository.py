from datetime import datetime

from invoicing.db.base import Connection, Row
from invoicing.db.query import Query

_GET = Query("SELECT profile, updated_at FROM seller_profile WHERE id = 1")
_UPSERT = Query(
    "INSERT INTO seller_profile (id, profile, updated_at) VALUES (1, $1, $2) "
    "ON CONFLICT (id) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at"
)
# The saved profile's columns for another table's SELECT, NULL while none is saved: the order an
# invoice or credit note locks comes with the profile it copies, without a round trip of its own
# (bench.stages, PostgreSQL: 697 -> 664 µs of CPU per invoice, mean of 9 interleaved runs).
COLUMNS_ALONGSIDE = (
    "(SELECT profile FROM seller_profile WHERE id = 1) AS seller_profile, "
    "(SELECT updated_at FROM seller_profile WHERE id = 1) AS seller_updated_at"
)


async def get(connection: Connection) -> Row | None:
    return await connection.fetchrow(_GET)


async def save(connection: Connection, profile: str, updated_at: datetime) -> None:
    """`profile` is JSON text: asyncpg writes a JSONB column from a str, SQLite keeps the text."""
    await connection.execute(_UPSERT, profile, updated_at)
