from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from invoicing.db.base import Connection, Row
from invoicing.db.query import Insert, Query, placeholders

_ENDPOINT_COLUMNS = (
    "seq, id, url, description, events, enabled, disabled_reason, secret, previous_secret, "
    "previous_secret_until, created_at, updated_at"
)
_INSERT_ENDPOINT = Insert(
    "webhook_endpoints",
    (
        "id",
        "url",
        "description",
        "events",
        "enabled",
        "secret",
        "created_at",
        "updated_at",
    ),
)
_GET = Query(f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1")
_GET_FOR_UPDATE = Query(
    f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 FOR UPDATE"
)
_PAGE = Query(
    f"SELECT {_ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE seq < $1 ORDER BY seq DESC LIMIT $2"
)
_UPDATE = Query(
    "UPDATE webhook_endpoints SET url = $2, description = $3, events = $4, enabled = $5, "
    "disabled_reason = $6, updated_at = $7 WHERE id = $1"
)
_ROTATE = Query(
    "UPDATE webhook_endpoints SET secret = $2, previous_secret = $3, previous_secret_until = $4, "
    "updated_at = $5 WHERE id = $1"
)
_DISABLE = Query(
    "UPDATE webhook_endpoints SET enabled = FALSE, disabled_reason = $2, updated_at = $3 "
    "WHERE id = $1 AND enabled"
)
# Every statement that changes several deliveries first locks them in `seq` order, as the
# dispatcher records them, so that two such transactions never wait for each other in a circle
# (found by the bench: DELETE /webhooks/{id} during a drain, a deadlock and a 500).
_LOCK_DELIVERIES = Query(
    "SELECT seq FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq FOR UPDATE"
)
_DELETE_DELIVERIES = Query("DELETE FROM webhook_deliveries WHERE endpoint_id = $1")
_DELETE = Query("DELETE FROM webhook_endpoints WHERE id = $1")
# Re-enabled: what waited goes out now, with a new 3 days to get through.
_RESUME = Query(
    "UPDATE webhook_deliveries SET next_attempt_at = $2, first_attempt_at = NULL "
    "WHERE endpoint_id = $1 AND next_attempt_at IS NOT NULL"
)

_DELIVERY_COLUMNS = (
    "d.seq, d.event_id, e.type AS event_type, d.attempts, d.next_attempt_at, d.last_attempt_at, "
    "d.last_status_code, d.last_error, d.delivered_at, d.created_at"
)
_DELIVERIES = Query(
    f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries d "
    "JOIN webhook_events e ON e.id = d.event_id "
    "WHERE d.endpoint_id = $1 AND d.seq < $2 ORDER BY d.seq DESC LIMIT $3"
)
_RETRY = Query(
    "UPDATE webhook_deliveries SET next_attempt_at = $3, first_attempt_at = NULL "
    "WHERE endpoint_id = $1 AND event_id = $2 RETURNING seq"
)
_RETRY_FAILED = Query(
    "UPDATE webhook_deliveries SET next_attempt_at = $2, first_attempt_at = NULL "
    "WHERE endpoint_id = $1 AND next_attempt_at IS NULL AND delivered_at IS NULL RETURNING seq"
)
_DELIVERY = Query(
    f"SELECT {_DELIVERY_COLUMNS} FROM webhook_deliveries d "
    "JOIN webhook_events e ON e.id = d.event_id WHERE d.seq = $1"
)


async def insert_endpoint(connection: Connection, row: dict[str, Any]) -> None:
    await connection.execute(_INSERT_ENDPOINT.query, *_INSERT_ENDPOINT.values(row))


async def get(connection: Connection, id: str, *, lock: bool = False) -> Row | None:
    return await connection.fetchrow(_GET_FOR_UPDATE if lock else _GET, id)


async def page(connection: Connection, before: int, count: int) -> list[Row]:
    return await connection.fetch(_PAGE, before, count)


async def update(connection: Connection, row: dict[str, Any]) -> None:
    await connection.execute(
        _UPDATE,
        row["id"],
        row["url"],
        row["description"],
        row["events"],
        row["enabled"],
        row["disabled_reason"],
        row["updated_at"],
    )


async def rotate(
    connection: Connection,
    id: str,
    secret: str,
    previous: str,
    previous_until: datetime,
    at: datetime,
) -> None:
    await connection.execute(_ROTATE, id, secret, previous, previous_until, at)


async def disable(connection: Connection, id: str, reason: str, at: datetime) -> None:
    await connection.execute(_DISABLE, id, reason, at)


async def lock_deliveries(connection: Connection, endpoint_id: str) -> None:
    """Lock the endpoint's deliveries, in seq order: before its own row, before any change."""
    await connection.execute(_LOCK_DELIVERIES, endpoint_id)


async def resume(connection: Connection, id: str, at: datetime) -> None:
    await connection.execute(_RESUME, id, at)


async def delete(connection: Connection, id: str) -> None:
    # The deliveries first: SQLite enforces the foreign key but not, without a rebuild, the
    # cascade; their events stay until they age out.
    await connection.execute(_DELETE_DELIVERIES, id)
    await connection.execute(_DELETE, id)


async def deliveries(
    connection: Connection, endpoint_id: str, before: int, count: int
) -> list[Row]:
    return await connection.fetch(_DELIVERIES, endpoint_id, before, count)


async def retry(
    connection: Connection, endpoint_id: str, event_id: str, at: datetime
) -> Row | None:
    seq = await connection.fetchval(_RETRY, endpoint_id, event_id, at)
    return None if seq is None else await connection.fetchrow(_DELIVERY, seq)


async def retry_failed(connection: Connection, endpoint_id: str, at: datetime) -> int:
    return len(await connection.fetch(_RETRY_FAILED, endpoint_id, at))


# The dispatcher's side.

# Due deliveries of enabled endpoints, oldest due first, skipping rows another process is
# claiming (PostgreSQL; SQLite's write lock already lets one process at a time in).
_DUE = (
    "SELECT d.seq, d.endpoint_id FROM webhook_deliveries d "
    "JOIN webhook_endpoints w ON w.id = d.endpoint_id "
    "WHERE d.next_attempt_at <= $1 AND w.enabled{excluded} "
    "ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED"
)
# A read first, so that an idle poll takes no write lock (SQLite's is the whole database's).
_ANY_DUE = Query(
    "SELECT 1 FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id "
    "WHERE d.next_attempt_at <= $1 AND w.enabled LIMIT 1"
)


@cache
def _due(excluded: int) -> Query:
    """`excluded`: how many endpoints to leave out (those already at their share of attempts)."""
    leave_out = f" AND d.endpoint_id NOT IN ({placeholders(excluded, 3)})" if excluded else ""
    return Query(_DUE.format(excluded=leave_out))


@cache
def _claim(count: int) -> Query:
    return Query(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, "
        "first_attempt_at = COALESCE(first_attempt_at, $2), last_attempt_at = $2 "
        f"WHERE seq IN ({placeholders(count, 3)})"
    )


@cache
def _claimed(count: int) -> Query:
    return Query(
        "SELECT d.seq, d.attempts, d.first_attempt_at, d.endpoint_id, e.id AS event_id, "
        "e.payload, w.url, w.secret, w.previous_secret, w.previous_secret_until "
        "FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id "
        "JOIN webhook_endpoints w ON w.id = d.endpoint_id "
        f"WHERE d.seq IN ({placeholders(count)}) ORDER BY d.seq"
    )


async def any_due(connection: Connection, at: datetime) -> bool:
    return await connection.fetchval(_ANY_DUE, at) is not None


async def due(
    connection: Connection, at: datetime, limit: int, excluded: Sequence[str]
) -> list[Row]:
    return await connection.fetch(_due(len(excluded)), at, limit, *excluded)


async def claim(
    connection: Connection, seqs: Sequence[int], at: datetime, lease_until: datetime
) -> list[Row]:
    """Count an attempt on each delivery and hold it until `lease_until` (a process that dies
    mid-attempt leaves it to be tried again then); what each needs to be sent."""
    await connection.execute(_claim(len(seqs)), lease_until, at, *seqs)
    return await connection.fetch(_claimed(len(seqs)), *seqs)


@cache
def _lock(count: int) -> Query:
    return Query(
        f"SELECT seq FROM webhook_deliveries WHERE seq IN ({placeholders(count)}) "
        "ORDER BY seq FOR UPDATE"
    )


async def lock(connection: Connection, seqs: Sequence[int]) -> None:
    """Lock these deliveries in seq order (see _LOCK_DELIVERIES), before recording them."""
    if seqs:
        await connection.execute(_lock(len(seqs)), *seqs)


_DELIVERED = Query(
    "UPDATE webhook_deliveries SET next_attempt_at = NULL, delivered_at = $2, "
    "last_status_code = $3, last_error = NULL WHERE seq = $1"
)
_FAILED = Query(
    "UPDATE webhook_deliveries SET next_attempt_at = $2, last_status_code = $3, last_error = $4 "
    "WHERE seq = $1"
)


async def record_delivered(
    connection: Connection, results: Sequence[tuple[int, datetime, int]]
) -> None:
    await connection.executemany(_DELIVERED, results)


async def record_failed(
    connection: Connection, results: Sequence[tuple[int, datetime | None, int | None, str | None]]
) -> None:
    await connection.executemany(_FAILED, results)


# Done deliveries (delivered or given up) and then the events no delivery needs any more.
_PRUNE_DELIVERIES = Query(
    "DELETE FROM webhook_deliveries WHERE next_attempt_at IS NULL AND created_at < $1"
)
_PRUNE_EVENTS = Query(
    "DELETE FROM webhook_events WHERE created_at < $1 AND NOT EXISTS "
    "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = webhook_events.id)"
)


async def prune(connection: Connection, before: datetime) -> None:
    await connection.execute(_PRUNE_DELIVERIES, before)
    await connection.execute(_PRUNE_EVENTS, before)


_OLDEST_PENDING = Query(
    "SELECT MIN(created_at) FROM ("
    "SELECT MIN(created_at) AS created_at FROM webhook_deliveries "
    "WHERE next_attempt_at IS NOT NULL "
    "UNION ALL SELECT MIN(created_at) FROM webhook_outbox) AS pending"
)


async def oldest_pending(connection: Connection) -> datetime | str | None:
    return await connection.fetchval(_OLDEST_PENDING)  # type: ignore[no-any-return]
