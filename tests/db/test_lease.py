"""PostgresDatabase.lease: the first blocks share one pooled connection, then give it back."""

import asyncio
import contextvars
from collections.abc import Awaitable, Callable

import pytest

from invoicing.db.postgres import PostgresDatabase
from invoicing.db.query import Query

_BACKEND_PID = Query("SELECT pg_backend_pid()")


async def _pid(database: PostgresDatabase, write: bool = False) -> int:
    block = database.write() if write else database.read()
    async with block as connection:
        return int(await connection.fetchval(_BACKEND_PID))


async def _can_read_elsewhere(database: PostgresDatabase) -> bool:
    """Whether another task gets a connection now (the pool has one: no, while it is leased)."""
    try:
        # A task of its own context: it must not inherit the lease.
        other = asyncio.create_task(_pid(database), context=contextvars.Context())
        await asyncio.wait_for(other, 0.5)
    except TimeoutError:
        return False
    return True


def _with_pool_of_one(
    postgres_url: str, test: Callable[[PostgresDatabase], Awaitable[None]]
) -> None:
    """Run `test` against a database whose pool holds one connection: a held one shows."""

    async def work() -> None:
        database = PostgresDatabase(postgres_url, pool_size=1, timeout=5)
        await database.connect()
        try:
            await test(database)
        finally:
            await database.close()

    asyncio.run(work())


def test_the_first_blocks_share_one_connection_which_is_then_given_back(postgres_url):
    async def test(database: PostgresDatabase) -> None:
        async with database.lease(blocks=3):
            first = await _pid(database)
            assert not await _can_read_elsewhere(database)  # held between blocks
            assert await _pid(database, write=True) == first
            assert await _pid(database) == first
            assert await _can_read_elsewhere(database)  # given back after the third
            await _pid(database)  # later blocks take pooled connections as usual
        assert await _can_read_elsewhere(database)

    _with_pool_of_one(postgres_url, test)


def test_a_lease_ended_early_gives_its_connection_back(postgres_url):
    async def test(database: PostgresDatabase) -> None:
        async with database.lease(blocks=2):
            await _pid(database)
            assert not await _can_read_elsewhere(database)
        assert await _can_read_elsewhere(database)  # the block's end gave it back

    _with_pool_of_one(postgres_url, test)


def test_an_error_in_a_leased_block_does_not_keep_the_connection(postgres_url):
    async def test(database: PostgresDatabase) -> None:
        async with database.lease(blocks=1):
            with pytest.raises(ZeroDivisionError):
                async with database.read():
                    raise ZeroDivisionError
        assert await _can_read_elsewhere(database)

    _with_pool_of_one(postgres_url, test)
