"""PostgreSQL through asyncpg: a pool taken first-come first-served, and request leases."""

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar, Token
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

    def lease(self, blocks: int) -> AbstractAsyncContextManager[None]:
        """Within this block, the first `blocks` reads or writes of the current task share one
        connection, taken at the first of them and given back after the last (or when the block
        ends), so the work that follows (a PDF render, a mail) holds none."""
        return _LeaseBlock(self, blocks)

    async def _take(self, pool: asyncpg.Pool) -> tuple[Any, asyncpg.Connection]:
        """A connection, in turn: waiters take turns first-come first-served (asyncio.Semaphore
        is fair; the pool's own queue lets a newcomer take a connection that was meant for a
        waiter, which under load starved some requests for over a second). Returns the pool's
        acquire context (to give it back with) and the connection."""
        await self._turns.acquire()
        try:
            acquired = pool.acquire()
            return acquired, await acquired.__aenter__()
        except BaseException:
            self._turns.release()
            raise

    async def _end(self, lease: _Lease) -> None:
        lease.ended = True
        acquired, lease.acquired, lease.conn = lease.acquired, None, None
        if acquired is not None:
            try:
                await acquired.__aexit__(None, None, None)
            finally:
                self._turns.release()

    def _acquire(self) -> "_Acquire":
        """A pooled connection for one block: the current lease's (see `lease`), else one taken
        in turn, first-come first-served."""
        return _Acquire(self)

    def read(self) -> AbstractAsyncContextManager[Connection]:
        return _Read(_Acquire(self))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        try:
            async with self._acquire() as conn, conn.transaction():
                yield PostgresConnection(conn)
        except asyncpg.DeadlockDetectedError as error:
            # PostgreSQL rolled this transaction back to break a cycle of waits: retrying it
            # succeeds (a 503 that says so, not a 500).
            raise DatabaseUnavailable(str(error)) from error


class _LeaseBlock:
    """`PostgresDatabase.lease()`: a plain class, like `_Acquire` (an `asynccontextmanager`'s
    async generator costs a few µs more per GET /invoices/{id}, which takes a lease)."""

    __slots__ = ("database", "lease", "token")

    def __init__(self, database: PostgresDatabase, blocks: int) -> None:
        self.database = database
        self.lease = _Lease(blocks)
        self.token: Token[_Lease | None] | None = None

    async def __aenter__(self) -> None:
        self.token = _lease.set(self.lease)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any
    ) -> None:
        assert self.token is not None
        _lease.reset(self.token)
        await self.database._end(self.lease)


class _Acquire:
    """`PostgresDatabase._acquire()`. A plain class: as nested `asynccontextmanager`s (read, then
    acquire, then the lease's block) its async generators cost 6-15 µs more per
    `GET /invoices/{id}` (a lease and two reads; measured in-process against the pool)."""

    __slots__ = ("conn", "database", "lease", "pooled")

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database
        self.lease: _Lease | None = None
        self.pooled: Any = None  # the pool's acquire context, when not leased
        self.conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        database = self.database
        pool = database._pool
        if pool is None:
            raise DatabaseUnavailable("the database is not connected")
        lease = _lease.get()
        try:
            if lease is not None and not lease.ended:
                self.lease = lease
                if lease.conn is None:
                    lease.acquired, lease.conn = await database._take(pool)
                return lease.conn
            # No acquire timeout: statements are bounded by command_timeout, new connections by
            # the pool's connect timeout, so a waiter always gets a connection or an error.
            self.pooled, self.conn = await database._take(pool)
            return self.conn
        except _CONNECTION_ERRORS as error:
            raise DatabaseUnavailable(str(error)) from error

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any
    ) -> None:
        database = self.database
        broken = isinstance(error, _CONNECTION_ERRORS)
        try:
            lease = self.lease
            if lease is not None:
                if broken:
                    assert lease.conn is not None
                    lease.conn.terminate()  # in doubt: see below
                    await database._end(lease)
                elif error is None:
                    lease.blocks -= 1
                    if lease.blocks <= 0:
                        await database._end(lease)
            else:
                if broken:
                    # A timed-out statement or a broken link leaves the connection in doubt, and
                    # releasing it would first wait for asyncpg's cancel request (one more
                    # command_timeout while the database is unreachable): drop it instead.
                    assert self.conn is not None
                    self.conn.terminate()
                try:
                    await self.pooled.__aexit__(kind, error, traceback)
                finally:
                    database._turns.release()
        except _CONNECTION_ERRORS as failure:
            raise DatabaseUnavailable(str(failure)) from failure
        if broken:
            raise DatabaseUnavailable(str(error)) from error


class _Read:
    """`PostgresDatabase.read()`: an `_Acquire` whose connection is wrapped for the repositories."""

    __slots__ = ("acquire",)

    def __init__(self, acquire: _Acquire) -> None:
        self.acquire = acquire

    async def __aenter__(self) -> Connection:
        return PostgresConnection(await self.acquire.__aenter__())

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any
    ) -> None:
        await self.acquire.__aexit__(kind, error, traceback)
