"""Database.lease: the reads and writes of one request share one connection (PostgreSQL)."""

from invoicing.db.database import Database, Query
from tests.conftest import run

_BACKEND_PID = Query("SELECT pg_backend_pid()")


def test_a_lease_shares_one_connection_until_it_ends(client, database_url):
    if not database_url.startswith("postgresql"):
        return  # SQLite has one connection per process anyway: lease() is a no-op there

    async def work(database: Database) -> tuple[set[int], set[int], int]:
        async def pid() -> int:
            async with database.read() as connection:
                return int(await connection.fetchval(_BACKEND_PID))

        async def pid_in_transaction() -> int:
            async with database.write() as connection:
                return int(await connection.fetchval(_BACKEND_PID))

        async with database.lease():
            leased = {await pid(), await pid_in_transaction(), await pid()}
            pool = database._pool  # type: ignore[attr-defined]
            await database.end_lease()
            free_after_end = pool._queue.qsize()
            after = {await pid() for _ in range(3)}
        return leased, after, free_after_end

    leased, after, free_after_end = run(client, work)
    assert len(leased) == 1
    assert free_after_end == client.app.state.settings.pool_size  # given back before the block ends
    assert after  # after end_lease each read takes a pooled connection again


def test_without_a_lease_nothing_is_held(client):
    async def work(database: Database) -> int:
        async with database.read() as connection:
            return int(await connection.fetchval(Query("SELECT 1")))

    assert run(client, work) == 1
