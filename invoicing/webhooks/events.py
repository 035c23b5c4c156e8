"""Events, written in the transaction of the change they report (the outbox): an event exists if
and only if its change committed, and it carries the resource as it was at that moment.

On SQLite a request writes the event to `webhook_outbox`, a table with no index but its rowid,
and the delivery process moves it into `webhook_events` and `webhook_deliveries` (`move`). Written
in the request, those two tables' six indexes cost POST /invoices 17 % of its throughput (bench:
WAL pages per create 18.3 without an endpoint, 29.2 with one, two thirds of the difference the
indexes). PostgreSQL writes them in the request, in one round trip that the index writes hardly
lengthen (bench: 0.97x of the throughput without an endpoint)."""

from collections.abc import Sequence
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


def _writes_event(first: int) -> str:
    """PostgreSQL: the end of a WITH that writes an event and its deliveries, nothing when no
    endpoint listens; parameters from `$first`: the event's id, the LIKE pattern of its type, its
    type, its body and its time (the deliveries' first due time)."""
    event_id, pattern, type_, payload, at = (f"${first + n}" for n in range(5))
    return (
        f"targets AS (SELECT id FROM webhook_endpoints WHERE {_listens(pattern)}), "
        "event AS (INSERT INTO webhook_events (id, type, payload, created_at) "
        f"SELECT {event_id}::varchar, {type_}::varchar, {payload}::text, {at}::timestamptz "
        "WHERE EXISTS (SELECT 1 FROM targets) RETURNING id) "
        "INSERT INTO webhook_deliveries "
        "(endpoint_id, event_id, attempts, next_attempt_at, created_at) "
        f"SELECT targets.id, event.id, 0, {at}::timestamptz, {at}::timestamptz FROM targets, event"
    )


# PostgreSQL: one round trip inside the caller's transaction.
_EMIT = Query("WITH " + _writes_event(1))
# SQLite: `instr`, not LIKE. A LIKE on a parameter makes SQLite prepare the statement again
# whenever the value bound changes (its plan may depend on the pattern): 18 µs per emit, against
# 3 µs this way (bench/stages.py), paid by every create with or without an endpoint.
_TARGETS = Query("SELECT id FROM webhook_endpoints WHERE events = '[\"*\"]' OR instr(events, $1)")
_INSERT_OUTBOX = Query(
    "INSERT INTO webhook_outbox (event_id, type, payload, endpoint_ids, created_at) "
    "VALUES ($1, $2, $3, $4, $5)"
)
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
    if connection.dialect == "postgresql":
        await connection.execute(_EMIT, *_event_arguments(type, data))
        return
    event_id, at = new_id(), now()
    targets = await connection.fetch(_TARGETS, f'"{type}"')
    if not targets:
        return
    payload = body(event_id, type, iso(at), data)
    endpoint_ids = orjson.dumps([row["id"] for row in targets]).decode()
    await connection.execute(_INSERT_OUTBOX, event_id, type, payload, endpoint_ids, at)


def _event_arguments(type: str, data: Any) -> tuple[Any, ...]:
    """`_writes_event`'s parameters for a new event of `type` about `data`."""
    event_id, at = new_id(), now()
    return event_id, f'%"{type}"%', type, body(event_id, type, iso(at), data), at


class Emitting:
    """A statement that also records an event (as `emit`). On PostgreSQL the event is written by
    the same statement (a WITH, whose data-modifying parts all run), so it costs no round trip of
    its own; an invoice's, inside the numbering lock. Elsewhere, `emit` runs after it."""

    __slots__ = ("combined", "statement")

    def __init__(self, statement: Query, parameters: int) -> None:
        """`parameters`: how many `statement` takes ($1 to $parameters)."""
        self.statement = statement
        self.combined = Query(
            f"WITH change AS ({statement.postgres}), {_writes_event(parameters + 1)}"
        )

    async def execute(
        self, connection: Connection, arguments: Sequence[Any], type: str, data: Any
    ) -> None:
        if connection.dialect == "postgresql":
            await connection.execute(self.combined, *arguments, *_event_arguments(type, data))
            return
        await connection.execute(self.statement, *arguments)
        await emit(connection, type, data)


async def ping(connection: Connection, endpoint_id: str) -> str:
    """A `ping` for one endpoint, whatever its filter says; its event id."""
    event_id, at = new_id(), now()
    data = {"endpointId": endpoint_id}
    await connection.execute(_INSERT_EVENT, event_id, PING, body(event_id, PING, iso(at), data), at)
    await connection.execute(_INSERT_DELIVERY, endpoint_id, event_id, at)
    return event_id


# Moving the outbox (SQLite): the events up to `$1`, each with a delivery for every endpoint that
# listened then and still exists (an event none of them is left for is dropped).
_WAITING = Query("SELECT 1 FROM webhook_outbox LIMIT 1")
_BATCH_END = Query("SELECT max(seq) FROM (SELECT seq FROM webhook_outbox ORDER BY seq LIMIT $1)")
_MOVE_EVENTS = Query(
    "INSERT INTO webhook_events (id, type, payload, created_at) "
    "SELECT event_id, type, payload, created_at FROM webhook_outbox o WHERE seq <= $1 AND EXISTS "
    "(SELECT 1 FROM json_each(o.endpoint_ids) t JOIN webhook_endpoints w ON w.id = t.value) "
    "ORDER BY seq"
)
_MOVE_DELIVERIES = Query(
    "INSERT INTO webhook_deliveries (endpoint_id, event_id, attempts, next_attempt_at, created_at) "
    "SELECT w.id, o.event_id, 0, o.created_at, o.created_at "
    "FROM webhook_outbox o JOIN json_each(o.endpoint_ids) t "
    "JOIN webhook_endpoints w ON w.id = t.value "
    "WHERE o.seq <= $1 ORDER BY o.seq"
)
_CLEAR = Query("DELETE FROM webhook_outbox WHERE seq <= $1 RETURNING seq")
# Events per transaction when the delivery process moves them: each batch holds SQLite's write
# lock, which every API write waits for.
MOVE_BATCH = 200


async def waiting(connection: Connection) -> bool:
    """Whether the outbox holds events not yet moved (always false on PostgreSQL)."""
    if connection.dialect != "sqlite":
        return False
    return await connection.fetchval(_WAITING) is not None


async def move(connection: Connection, limit: int | None = None) -> int:
    """Move the oldest `limit` events (all: None) from the outbox to their deliveries; how many."""
    if connection.dialect != "sqlite":
        return 0
    end = await connection.fetchval(_BATCH_END, -1 if limit is None else limit)
    if end is None:
        return 0
    await connection.execute(_MOVE_EVENTS, end)
    await connection.execute(_MOVE_DELIVERIES, end)
    return len(await connection.fetch(_CLEAR, end))
