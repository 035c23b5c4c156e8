"""Idempotency keys live 24 hours: then the key is free again, and the row is deleted."""

from datetime import timedelta

from invoicing.core.times import now
from invoicing.db import housekeeping
from invoicing.db.query import Query
from invoicing.web import idempotency
from tests.conftest import run
from tests.helpers import order_body

_AGE = Query("UPDATE idempotency_keys SET created_at = $2 WHERE key = $1")
_KEYS = Query("SELECT key FROM idempotency_keys ORDER BY key")


def age(client, key: str, hours: float) -> None:
    async def work(database):
        async with database.write() as connection:
            await connection.execute(_AGE, key, now() - timedelta(hours=hours))

    run(client, work)


def stored_keys(client) -> list[str]:
    async def work(database):
        async with database.read() as connection:
            return [row["key"] for row in await connection.fetch(_KEYS)]

    return run(client, work)


def test_a_key_is_kept_24_hours(client, api):
    first = api.post("/orders", json=order_body(), headers={"Idempotency-Key": "k"})
    age(client, "k", 23.9)
    again = api.post("/orders", json=order_body(currency="EUR"), headers={"Idempotency-Key": "k"})
    assert again.status_code == 409
    age(client, "k", 24.1)
    later = api.post("/orders", json=order_body(currency="EUR"), headers={"Idempotency-Key": "k"})
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["data"]["id"] != first.json()["data"]["id"]


def test_expired_keys_are_deleted(client, api):
    for key in ("old", "new"):
        api.post("/orders", json=order_body(), headers={"Idempotency-Key": key})
    age(client, "old", 25)
    run(client, lambda database: housekeeping.run_once(database, [idempotency.expire_keys]))
    assert stored_keys(client) == ["new"]
