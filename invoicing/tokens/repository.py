from datetime import datetime

from invoicing.db.base import Connection, Row
from invoicing.db.query import Query

_AUTHENTICATE = Query(
    "SELECT id, name, type FROM tokens WHERE secret_hash = $1 AND revoked_at IS NULL"
)
_INSERT = Query(
    "INSERT INTO tokens (id, name, type, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)"
)
_LIST = Query(
    "SELECT id, name, type, created_at, revoked_at FROM tokens "
    "WHERE revoked_at IS NULL OR $1 ORDER BY seq"
)
_REVOKE = Query(
    "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL "
    "RETURNING id, name, type, created_at, revoked_at"
)
_GET = Query("SELECT id, name, type, created_at, revoked_at FROM tokens WHERE id = $1")
_COUNT = Query("SELECT COUNT(*) FROM tokens")


async def authenticate(connection: Connection, secret_hash: str) -> Row | None:
    return await connection.fetchrow(_AUTHENTICATE, secret_hash)


async def insert(
    connection: Connection, id: str, name: str, type: str, secret_hash: str, created_at: datetime
) -> None:
    await connection.execute(_INSERT, id, name, type, secret_hash, created_at)


async def list_all(connection: Connection, *, include_revoked: bool) -> list[Row]:
    return await connection.fetch(_LIST, include_revoked)


async def get(connection: Connection, id: str) -> Row | None:
    return await connection.fetchrow(_GET, id)


async def revoke(connection: Connection, id: str, revoked_at: datetime) -> Row | None:
    return await connection.fetchrow(_REVOKE, id, revoked_at)


async def count(connection: Connection) -> int:
    return int(await connection.fetchval(_COUNT))
