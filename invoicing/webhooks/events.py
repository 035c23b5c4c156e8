"""Events, written in the transaction of the change they report (the outbox): an event exists if
and only if its change committed, and it carries the resource as it was at that moment."""

from typing import Any

import orjson

from invoicing.core.ids import new_id
from invoicing.core.times import iso, now
from invoicing.db.base import Connection
from invoicing.db.query import Query

EVENT_TYPES = (
    "order.created",
    "invoice.created",
    "invoice.sent",
    "invoice.paid",
    "payment.created",
    "creditnote.created",
    "creditnote.sent",
)
PING = "ping"
ALL = "*"


def _listens(parameter: str) -> str:
    """An endpoint listens for a type when its JSON list of types holds it (or is `["*"]`)."""
    return f"(events = '[\"*\"]' OR events LIKE {parameter})"


# PostgreSQL: one round trip inside the caller's transaction, writing nothing when no endpoint
# listens. The event's time is the delivery's first due time.
_EMIT = Query(
    f"WITH targets AS (SELECT id FROM webhook_endpoints WHERE {_listens('$2')}), "
    "event AS (INSERT INTO webhook_events (id, type, payload, created_at) "
    "SELECT $1::varchar, $3::varchar, $4::text, $5::timestamptz "
    "WHERE EXISTS (SELECT 1 FROM targets) RETURNING id) "
    "INSERT INTO webhook_deliveries (endpoint_id, event_id, attempts, next_attempt_at, created_at) "
    "SELECT targets.id, event.id, 0, $5::timestamptz, $5::timestamptz FROM targets, event"
)
# SQLite (no writes inside WITH): the same in three statements, each microseconds in-process.
_TARGETS = Query(f"SELECT id FROM webhook_endpoints WHERE {_listens('$1')}")
_INSERT_EVENT = Query(
    "INSERT INTO webhook_events (id, type, payload, created_at) VALUES ($1, $2, $3, $4)"
)
_INSERT_DELIVERY = Query(
    "INSERT INTO webhook_deliveries (endpoint_id, event_id, attempts, next_attempt_at, created_at) "
    "VALUES ($1, $2, 0, $3, $3)"
)


def body(event_id: str, type: str, created_at: str, data: Any) -> str:
    """What is posted, byte for byte, on every attempt: `{id, type, createdAt, data}`."""
    return orjson.dumps(
        {"id": event_id, "type": type, "createdAt": created_at, "data": data}
    ).decode()


async def emit(connection: Connection, type: str, data: Any) -> None:
    """Record that `type` happened to `data` (the resource as its GET returns it now), for every
    endpoint listening for it. Call inside the change's own transaction."""
    event_id, at = new_id(), now()
    listens = f'%"{type}"%'
    if connection.dialect == "postgresql":
        payload = body(event_id, type, iso(at), data)
        await connection.execute(_EMIT, event_id, listens, type, payload, at)
        return
    targets = await connection.fetch(_TARGETS, listens)
    if not targets:
        return
    await connection.execute(_INSERT_EVENT, event_id, type, body(event_id, type, iso(at), data), at)
    await connection.executemany(_INSERT_DELIVERY, [(row["id"], event_id, at) for row in targets])


async def ping(connection: Connection, endpoint_id: str) -> str:
    """A `ping` for one endpoint, whatever its filter says; its event id."""
    event_id, at = new_id(), now()
    data = {"endpointId": endpoint_id}
    await connection.execute(_INSERT_EVENT, event_id, PING, body(event_id, PING, iso(at), data), at)
    await connection.execute(_INSERT_DELIVERY, endpoint_id, event_id, at)
    return event_id
