"""PostgreSQL through asyncpg: a pool taken first-come first-served, and request leases."""

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import asyncpg

from invoicing.db.base import Connection, Database, DatabaseUnavailable, Row
from invoicing.db.query import Query


class PostgresConnection(Connection):
    dialect = "postgresql"
    __slots__ = ("_conn",)

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def fetch(self, query: Query, *args: Any) -> list[Row]:
        return await self._conn.fetch(query.postgres, *args)  # type: ignore[no-any-return]

    async def fetchrow(self, query: Query, *args: Any) -> Row | None:
        return await self._conn.fetchrow(query.postgres, *args)  # type: ignore[no-any-return]

    async def fetchval(self, query: Query, *args: Any) -> Any:
        return await self._conn.fetchval(query.postgres, *args)

    async def execute(self, query: Query, *args: Any) -> None:
        await self._conn.execute(query.postgres, *args)

    async def executemany(self, query: Query, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(query.postgres, rows)


_CONNECTION_ERRORS = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.QueryCanceledError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # NUMERIC arrives as its exact text (like SQLite's TEXT money), not as a Decimal object.
    await conn.set_type_codec(
        "numeric", encoder=str, decoder=str, schema="pg_catalog", format="text"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Released connections skip asyncpg's RESET ALL round trip: the service sets no session
    state (no SET, LISTEN or session advisory locks), and transactions always end in their block."""


class _Lease:
    """One pooled connection for the next `blocks` reads or writes (see PostgresDatabase.lease)."""

    __slots__ = ("acquired", "blocks", "conn", "ended")

    def __init__(self, blocks: int) -> None:
        self.acquired: Any = None
        self.conn: asyncpg.Connection | None = None
        self.blocks = blocks
        self.ended = False


_lease: ContextVar[_Lease | None] = ContextVar("invoicing_database_lease", default=None)


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, dsn: str, *, pool_size: int, timeout: float, durable: bool = True) -> None:
        self.dsn = dsn
        self.durable = durable
        self.pool_size = pool_size
        self.timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._turns = asyncio.Semaphore(pool_size)

    async def connect(self) -> None:
        # The pool opens connections lazily (min_size=0), so the server starts, and /health
        # answers 503, while the database is down; it recovers once the database is back.
        self._pool = asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.pool_size,
            timeout=self.timeout,
            command_timeout=self.timeout,
            max_inactive_connection_lifetime=60,
            init=_init_connection,
            reset=_keep_session,
            server_settings={} if self.durable else {"synchronous_commit": "off"},
        )
        await self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def lease(self, blocks: int) -> AsyncIterator[None]:
        """Within this block, the first `blocks` reads or writes of the current task share one
        connection, taken at the first of them and given back after the last (or when the block
        ends), so the work that follows (a PDF render, a mail) holds none."""
        lease = _Lease(blocks)
        token = _lease.set(lease)
        try:
            yield
        finally:
            _lease.reset(token)
            await self._end(lease)

    async def _end(self, lease: _Lease) -> None:
        lease.ended = True
        acquired, lease.acquired, lease.conn = lease.acquired, None, None
        if acquired is not None:
            try:
                await acquired.__aexit__(None, None, None)
            finally:
                self._turns.release()

    @asynccontextmanager
    async def _leased(self, lease: _Lease) -> AsyncIterator[asyncpg.Connection]:
        assert self._pool is not None
        try:
            if lease.conn is None:
                await self._turns.acquire()
                try:
                    acquired = self._pool.acquire()
                    lease.conn = await acquired.__aenter__()
                except BaseException:
                    self._turns.release()
                    raise
                lease.acquired = acquired
            try:
                yield lease.conn
            except _CONNECTION_ERRORS:
                lease.conn.terminate()  # in doubt: see _acquire
                await self._end(lease)
                raise
            lease.blocks -= 1
            if lease.blocks <= 0:
                await self._end(lease)
        except _CONNECTION_ERRORS as error:
            raise DatabaseUnavailable(str(error)) from error

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        if self._pool is None:
            raise DatabaseUnavailable("the database is not connected")
        lease = _lease.get()
        if lease is not None and not lease.ended:
            async with self._leased(lease) as conn:
                yield conn
            return
        try:
            # No acquire timeout: statements are bounded by command_timeout, new connections by
            # the pool's connect timeout, so a waiter always gets a connection or an error.
            # Waiters take turns first-come first-served (asyncio.Semaphore is fair; the pool's
            # own queue lets a newcomer take a connection that was meant for a waiter, which
            # under load starved some requests for over a second).
            async with self._turns, self._pool.acquire() as conn:
                try:
                    yield conn
                except _CONNECTION_ERRORS:
                    # A timed-out statement or a broken link leaves the connection in doubt, and
                    # releasing it would first wait for asyncpg's cancel request (one more
                    # command_timeout while the database is unreachable): drop it instead.
                    conn.terminate()
                    raise
        except _CONNECTION_ERRORS as error:
            raise DatabaseUnavailable(str(error)) from error

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        async with self._acquire() as conn:
            yield PostgresConnection(conn)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        try:
            async with self._acquire() as conn, conn.transaction():
                yield PostgresConnection(conn)
        except asyncpg.DeadlockDetectedError as error:
            # PostgreSQL rolled this transaction back to break a cycle of waits: retrying it
            # succeeds (a 503 that says so, not a 500).
            raise DatabaseUnavailable(str(error)) from error
