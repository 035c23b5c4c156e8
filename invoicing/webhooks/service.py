"""Webhook endpoints: CRUD, secrets shown once and rotated, pings, deliveries and their retry."""

from datetime import timedelta
from functools import partial
from typing import Any

import orjson

from invoicing.config import Settings
from invoicing.core.errors import ValidationFailed
from invoicing.core.ids import new_id
from invoicing.core.lookup import get_or_404
from invoicing.core.times import iso, now
from invoicing.db.base import Connection, Database, Row
from invoicing.web import pagination
from invoicing.web.serialize import identity
from invoicing.webhooks import addresses, events, repository
from invoicing.webhooks.schemas import WebhookCreate, WebhookUpdate
from invoicing.webhooks.signing import SecretBox, new_secret

ENDPOINT_NOT_FOUND = "Webhook endpoint not found"
DELIVERY_NOT_FOUND = "Delivery not found"
ROTATION_OVERLAP = timedelta(hours=24)


def check_url(url: str, settings: Settings) -> None:
    try:
        addresses.check_saved(addresses.parse(url), allow_private=settings.webhook_allow_private)
    except addresses.AddressRefused as error:
        raise ValidationFailed.on(
            "url", f"must be on a public address: {error} (see INVOICING_WEBHOOK_ALLOW_PRIVATE)"
        ) from None


async def create(
    connection: Connection, payload: WebhookCreate, settings: Settings, box: SecretBox
) -> dict[str, Any]:
    check_url(payload.url, settings)
    secret, at = new_secret(), now()
    row = {
        "id": new_id(),
        "url": payload.url,
        "description": payload.description,
        "events": orjson.dumps(payload.events).decode(),
        "enabled": True,
        "disabled_reason": None,
        "secret": box.seal(secret),
        "created_at": at,
        "updated_at": at,
    }
    await repository.insert_endpoint(connection, row)
    return {**to_json(row), "secret": secret}


async def get(connection: Connection, endpoint_id: str) -> dict[str, Any]:
    return to_json(await _get(connection, endpoint_id))


async def _get(connection: Connection, endpoint_id: str, *, lock: bool = False) -> Row:
    return await get_or_404(
        partial(repository.get, connection, lock=lock), endpoint_id, ENDPOINT_NOT_FOUND
    )


async def list_page(connection: Connection, limit: int, cursor: str | None) -> bytes:
    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.page(connection, before, count)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        return [to_json(row) for row in rows]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def update(
    connection: Connection, endpoint_id: str, payload: WebhookUpdate, settings: Settings
) -> dict[str, Any]:
    for field in payload.model_fields_set:
        if getattr(payload, field) is None:
            raise ValidationFailed.on(field, "must not be null")
    await repository.lock_deliveries(connection, endpoint_id)  # in the dispatcher's order
    row = dict(await _get(connection, endpoint_id, lock=True))
    at = now()
    if payload.url is not None:
        check_url(payload.url, settings)
        row["url"] = payload.url
    if payload.description is not None:
        row["description"] = payload.description
    if payload.events is not None:
        row["events"] = orjson.dumps(payload.events).decode()
    if payload.enabled is not None:
        if payload.enabled and not row["enabled"]:
            await repository.resume(connection, endpoint_id, at)
        row["enabled"] = payload.enabled
        row["disabled_reason"] = None
    row["updated_at"] = at
    await repository.update(connection, row)
    return to_json(row)


async def delete(connection: Connection, endpoint_id: str) -> dict[str, Any]:
    await repository.lock_deliveries(connection, endpoint_id)  # in the dispatcher's order
    row = await _get(connection, endpoint_id, lock=True)
    await repository.delete(connection, endpoint_id)
    return to_json(row)


async def rotate_secret(connection: Connection, endpoint_id: str, box: SecretBox) -> dict[str, Any]:
    """A new secret; the one it replaces keeps signing too for 24 hours, so that receivers can
    switch over without dropping a delivery."""
    row = dict(await _get(connection, endpoint_id, lock=True))
    secret, at = new_secret(), now()
    await repository.rotate(
        connection, endpoint_id, box.seal(secret), row["secret"], at + ROTATION_OVERLAP, at
    )
    row["updated_at"] = at
    return {**to_json(row), "secret": secret}


async def ping(connection: Connection, endpoint_id: str) -> dict[str, Any]:
    await _get(connection, endpoint_id)
    await events.move(connection)  # what came before the ping is listed before it
    return {"eventId": await events.ping(connection, endpoint_id)}


async def move_outbox(database: Database) -> None:
    """Move the events requests have written to the outbox (SQLite) to their deliveries now,
    rather than when the delivery process next does: a list of deliveries shows every event
    whose change has committed."""
    if database.dialect != "sqlite":
        return
    async with database.read() as connection:
        if not await events.waiting(connection):
            return
    moved = events.MOVE_BATCH
    while moved == events.MOVE_BATCH:  # a batch per transaction, as the delivery process does
        async with database.write() as connection:
            moved = await events.move(connection, events.MOVE_BATCH)


async def deliveries_page(
    connection: Connection, endpoint_id: str, limit: int, cursor: str | None
) -> bytes:
    await _get(connection, endpoint_id)

    async def fetch(before: int, count: int) -> list[Row]:
        return await repository.deliveries(connection, endpoint_id, before, count)

    async def render(rows: list[Row]) -> list[dict[str, Any]]:
        return [delivery_json(row) for row in rows]

    return await pagination.list_page(fetch, render, limit=limit, cursor=cursor)


async def retry(connection: Connection, endpoint_id: str, event_id: str) -> dict[str, Any]:
    """Send the event to the endpoint again now, whatever became of it before."""
    await _get(connection, endpoint_id)
    await events.move(connection)
    row = await get_or_404(
        partial(repository.retry, connection, endpoint_id, at=now()),
        event_id,
        DELIVERY_NOT_FOUND,
    )
    return delivery_json(row)


async def retry_failed(connection: Connection, endpoint_id: str) -> int:
    """Send every delivery the endpoint gave up on again; how many."""
    await _get(connection, endpoint_id)
    await repository.lock_deliveries(connection, endpoint_id)
    return await repository.retry_failed(connection, endpoint_id, now())


async def list_all(connection: Connection) -> list[dict[str, Any]]:
    return [to_json(row) for row in await repository.page(connection, pagination.FIRST_PAGE, 10**6)]


def to_json(row: Row | dict[str, Any]) -> dict[str, Any]:
    return {
        **identity(row),
        "url": row["url"],
        "events": orjson.loads(row["events"]),
        "description": row["description"],
        "enabled": bool(row["enabled"]),
        "disabledReason": row["disabled_reason"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
    }


def delivery_json(row: Row) -> dict[str, Any]:
    if row["next_attempt_at"] is not None:
        status = "pending"
    elif row["delivered_at"] is not None:
        status = "delivered"
    else:
        status = "failed"
    return {
        "eventId": row["event_id"],
        "eventType": row["event_type"],
        "status": status,
        "attempts": row["attempts"],
        "lastStatusCode": row["last_status_code"],
        "lastError": row["last_error"],
        "lastAttemptAt": _time(row["last_attempt_at"]),
        "nextAttemptAt": _time(row["next_attempt_at"]),
        "deliveredAt": _time(row["delivered_at"]),
        "createdAt": iso(row["created_at"]),
    }


def _time(value: Any) -> str | None:
    return None if value is None else iso(value)
