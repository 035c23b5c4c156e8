"""A thin async layer over the raw drivers: sqlite3 (the embedded default) and asyncpg.

The request path runs a handful of statements per request, so it talks to the drivers directly
(statements are prepared once by each driver's statement cache) instead of through an ORM session.
"""

import asyncio
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from invoicing.db.url import dialect, postgres_dsn, sqlite_path
from invoicing.times import iso

Row = Mapping[str, Any]

sqlite3.register_adapter(Decimal, str)
sqlite3.register_adapter(datetime, iso)


class DatabaseUnavailable(Exception):
    """The database did not answer in time (down, unreachable, or locked past the busy timeout)."""


class Query:
    """A statement written once in PostgreSQL's form ($1, FOR UPDATE), derived for SQLite."""

    __slots__ = ("postgres", "sqlite")

    def __init__(self, sql: str) -> None:
        self.postgres = sql
        # SQLite takes numbered parameters as ?1 and has no row locks: its write transactions
        # (BEGIN IMMEDIATE) already hold the one database-wide write lock.
        self.sqlite = re.sub(r"\$(\d+)", r"?\1", sql).replace(" FOR UPDATE", "")


class Connection(ABC):
    @abstractmethod
    async def fetch(self, query: Query, *args: Any) -> list[Row]: ...

    @abstractmethod
    async def fetchrow(self, query: Query, *args: Any) -> Row | None: ...

    @abstractmethod
    async def fetchval(self, query: Query, *args: Any) -> Any: ...

    @abstractmethod
    async def execute(self, query: Query, *args: Any) -> None: ...

    @abstractmethod
    async def executemany(self, query: Query, rows: Iterable[Sequence[Any]]) -> None: ...


class Database(ABC):
    dialect: str

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Connection]:
        """A connection for reads (each statement sees committed data)."""

    @abstractmethod
    def write(self) -> AbstractAsyncContextManager[Connection]:
        """A transaction, committed when the block ends and rolled back if it raises."""

    def lease(self) -> AbstractAsyncContextManager[None]:
        """Within this block, the reads and writes of the current task share one connection,
        taken at its first use; `end_lease()` gives it back early, before slow work."""
        return nullcontext()

    async def end_lease(self) -> None:  # noqa: B027 - a hook: nothing to do without leases
        """Give the leased connection back now (no-op without a lease)."""

    async def ping(self) -> None:
        async with self.read() as connection:
            await connection.fetchval(_PING)


_PING = Query("SELECT 1")


def create_database(url: str, *, pool_size: int = 10, timeout: float = 5.0) -> Database:
    if dialect(url) == "postgresql":
        return PostgresDatabase(postgres_dsn(url), pool_size=pool_size, timeout=timeout)
    return SQLiteDatabase(sqlite_path(url), timeout=timeout)


class SQLiteConnection(Connection):
    """sqlite3 called on the event loop: each call is short, and no other task can interleave
    inside a transaction because nothing in it truly awaits."""

    __slots__ = ("_db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    async def fetch(self, query: Query, *args: Any) -> list[Row]:
        return self._db.execute(query.sqlite, args).fetchall()

    async def fetchrow(self, query: Query, *args: Any) -> Row | None:
        row: Row | None = self._db.execute(query.sqlite, args).fetchone()
        return row

    async def fetchval(self, query: Query, *args: Any) -> Any:
        row = self._db.execute(query.sqlite, args).fetchone()
        return None if row is None else row[0]

    async def execute(self, query: Query, *args: Any) -> None:
        self._db.execute(query.sqlite, args)

    async def executemany(self, query: Query, rows: Iterable[Sequence[Any]]) -> None:
        self._db.executemany(query.sqlite, rows)


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, path: str, *, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._connection: SQLiteConnection | None = None
        self._in_transaction = False

    async def connect(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # an acknowledged invoice survives power loss too
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        self._db = db
        self._connection = SQLiteConnection(db)

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _get(self) -> tuple[sqlite3.Connection, SQLiteConnection]:
        if self._db is None or self._connection is None:
            raise DatabaseUnavailable("the database is not connected")
        return self._db, self._connection

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Connection]:
        _, connection = self._get()
        try:
            yield connection
        except sqlite3.OperationalError as error:
            raise _unavailable(error) from error

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Connection]:
        db, connection = self._get()
        if self._in_transaction:
            raise RuntimeError("a SQLite transaction awaited something real: this is a bug")
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            raise _unavailable(error) from error
        self._in_transaction = True
        try:
            yield connection
        except BaseException as error:
            db.execute("ROLLBACK")
            if isinstance(error, sqlite3.OperationalError):
                raise _unavailable(error) from error
            raise
        else:
            try:
                db.execute("COMMIT")
            except sqlite3.OperationalError as commit_error:
                db.execute("ROLLBACK")
                raise _unavailable(commit_error) from commit_error
        finally:
            self._in_transaction = False


def _unavailable(error: sqlite3.OperationalError) -> Exception:
    message = str(error)
    if "locked" in message or "busy" in message or "unable to open" in message:
        return DatabaseUnavailable(message)
    return error


class PostgresConnection(Connection):
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
    """One pooled connection for a whole request (see Database.lease)."""

    __slots__ = ("acquired", "conn", "ended")

    def __init__(self) -> None:
        self.acquired: Any = None
        self.conn: asyncpg.Connection | None = None
        self.ended = False


_lease: ContextVar[_Lease | None] = ContextVar("invoicing_database_lease", default=None)


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, dsn: str, *, pool_size: int, timeout: float) -> None:
        self.dsn = dsn
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
        )
        await self._pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[None]:
        token = _lease.set(_Lease())
        try:
            yield
        finally:
            lease = _lease.get()
            _lease.reset(token)
            if lease is not None:
                await self._end(lease)

    async def end_lease(self) -> None:
        lease = _lease.get()
        if lease is not None:
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
        async with self._acquire() as conn, conn.transaction():
            yield PostgresConnection(conn)
