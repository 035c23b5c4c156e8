"""Access tokens: random 256-bit secrets, of which only a SHA-256 hash is stored."""

import hashlib
import secrets
from functools import partial
from typing import Any, Literal

from invoicing.auth.principal import Principal
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.times import iso, now
from invoicing.db.base import Connection, Database, Row
from invoicing.tokens import repository
from invoicing.web.serialize import identity

TokenType = Literal["admin", "api"]
SECRET_PREFIX = "inv_"
TOKEN_NOT_FOUND = "Token not found"


def hash_secret(secret: str) -> str:
    # The secret has 256 random bits, so a fast hash is as strong as a slow one here.
    return hashlib.sha256(secret.encode()).hexdigest()


async def authenticate(database: Database, secret: str) -> Principal | None:
    async with database.read() as connection:
        row = await repository.authenticate(connection, hash_secret(secret))
    return None if row is None else Principal(row["id"], row["name"], row["type"])


async def create(connection: Connection, name: str, type: TokenType) -> tuple[dict[str, Any], str]:
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token_id, created_at = new_id(), now()
    await repository.insert(connection, token_id, name, type, hash_secret(secret), created_at)
    row = {"id": token_id, "name": name, "type": type, "created_at": created_at, "revoked_at": None}
    return serialize(row), secret


async def list_tokens(connection: Connection, *, include_revoked: bool) -> list[dict[str, Any]]:
    return [
        serialize(row)
        for row in await repository.list_all(connection, include_revoked=include_revoked)
    ]


async def get(connection: Connection, token_id: str) -> dict[str, Any]:
    """A token, revoked or not; NotFound for an unknown (or malformed) id."""
    row = await get_or_404(partial(repository.get, connection), token_id, TOKEN_NOT_FOUND)
    return serialize(row)


async def revoke(connection: Connection, token_id: str) -> dict[str, Any]:
    row = await get_or_404(partial(repository.get, connection), token_id, TOKEN_NOT_FOUND)
    if row["revoked_at"] is None:
        row = await repository.revoke(connection, token_id, now()) or row
    return serialize(row)  # revoking a revoked token again changes nothing


async def count(connection: Connection) -> int:
    return await repository.count(connection)


def serialize(row: Row) -> dict[str, Any]:
    revoked_at = row["revoked_at"]
    return {
        **identity(row),
        "name": row["name"],
        "type": row["type"],
        "createdAt": iso(row["created_at"]),
        "revokedAt": None if revoked_at is None else iso(revoked_at),
    }
