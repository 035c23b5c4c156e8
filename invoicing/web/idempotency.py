"""`Idempotency-Key`: the first successful response is kept for 24 hours per token and key.

The key is claimed inside the creating transaction itself, so two requests with one key at the
same moment create one resource: the second waits for the first and then replays its response.
"""

import hashlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

import orjson
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.core.errors import Conflict, ServiceUnavailable, ValidationFailed
from invoicing.core.times import now
from invoicing.db.base import Connection
from invoicing.db.query import Query
from invoicing.web import context
from invoicing.web.responses import json_response

RETENTION = timedelta(hours=24)
REUSED = "Idempotency key was already used with a different request"

_FIND = Query(
    "SELECT request_hash, status_code, response FROM idempotency_keys "
    "WHERE token_id = $1 AND key = $2 AND created_at >= $3"
)
_CLAIM = Query(
    "INSERT INTO idempotency_keys (token_id, key, request_hash, status_code, response, created_at) "
    "VALUES ($1, $2, $3, 0, '', $4) "
    "ON CONFLICT (token_id, key) DO UPDATE SET request_hash = excluded.request_hash, "
    "status_code = 0, response = '', created_at = excluded.created_at "
    "WHERE idempotency_keys.created_at < $5 RETURNING 1"
)
_COMPLETE = Query(
    "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE token_id = $1 AND key = $2"
)


_EXPIRE = Query("DELETE FROM idempotency_keys WHERE created_at < $1")


async def expire_keys(connection: Connection) -> None:
    """Delete the keys past their 24 hours (a housekeeping job)."""
    await connection.execute(_EXPIRE, now() - RETENTION)


async def claim_once(connection: Connection, token_id: str, key: str) -> bool:
    """Claim `key` for `token_id` inside the caller's transaction: False when it was claimed in
    the last 24 hours (a form submitted twice: the second must create nothing)."""
    if not 1 <= len(key) <= 255:
        return False
    moment = now()
    claimed = await connection.fetchval(_CLAIM, token_id, key, "form", moment, moment - RETENTION)
    if claimed is not None:
        await connection.execute(_COMPLETE, token_id, key, 303, "")
    return claimed is not None


class _KeyTaken(Exception):
    pass


async def fingerprint(request: Request) -> str:
    """The request's method, path and canonical body, hashed: one key may only replay the
    request it was first used with."""
    canonical = orjson.dumps(orjson.loads(await request.body()), option=orjson.OPT_SORT_KEYS)
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical)
    return digest.hexdigest()


async def run(request: Request, create: Callable[[Connection], Awaitable[bytes]]) -> Response:
    """Run `create` in a write transaction, at most once per idempotency key; answer 201.
    The body must have been parsed already (`bodies.parse`)."""
    database = context.database(request)
    key = request.headers.get("idempotency-key")
    if key is None:
        async with database.write() as connection:
            return json_response(await create(connection), 201)
    if not 1 <= len(key) <= 255:
        raise ValidationFailed("Idempotency-Key must be 1 to 255 characters")
    token_id = principal(request).id
    request_hash = await fingerprint(request)
    if (replay := await _replay(request, token_id, key, request_hash)) is not None:
        return replay
    moment = now()
    try:
        async with database.write() as connection:
            if (
                await connection.fetchval(
                    _CLAIM, token_id, key, request_hash, moment, moment - RETENTION
                )
                is None
            ):
                raise _KeyTaken
            body = await create(connection)
            await connection.execute(_COMPLETE, token_id, key, 201, body.decode())
    except _KeyTaken:
        replay = await _replay(request, token_id, key, request_hash)
        if replay is None:
            raise ServiceUnavailable("A request with this idempotency key is in progress") from None
        return replay
    return json_response(body, 201)


async def _replay(request: Request, token_id: str, key: str, request_hash: str) -> Response | None:
    async with context.database(request).read() as connection:
        stored = await connection.fetchrow(_FIND, token_id, key, now() - RETENTION)
    if stored is None:
        return None
    if stored["request_hash"] != request_hash:
        raise Conflict(REUSED)
    return json_response(
        stored["response"].encode(), stored["status_code"], {"Idempotent-Replayed": "true"}
    )
