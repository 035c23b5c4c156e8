"""The embedded default: sqlite3 in WAL mode, called on the event loop; one connection per
process for writes (group commit) and one for reads."""

import asyncio
import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from invoicing.core.times import iso
from invoicing.db.base import Connection, Database, DatabaseUnavailable, Row
from invoicing.db.query import Query

sqlite3.register_adapter(Decimal, str)
sqlite3.register_adapter(datetime, iso)
sqlite3.register_adapter(date, date.isoformat)  # (datetime, a subclass, keeps its own)

# Write blocks one transaction holds at most; a block beyond it waits for that commit. Bounds how
# long the first block of a busy turn waits for its answer (~0.3 ms of work per POST /invoices).
MAX_BLOCKS = 32


class SQLiteConnection(Connection):
    """sqlite3 called on the event loop: each call is short, and no other task can interleave
    inside a write block because nothing in it truly awaits."""

    dialect = "sqlite"
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
    """Group commit: the write blocks that run in one turn of the event loop share one
    transaction, each after the first in a savepoint of its own, and one COMMIT (one fsync)
    queued behind them makes them all durable before any of them exits. A block that raises is
    rolled back alone. The COMMIT was a third of a POST /invoices' CPU (157 of 478 µs,
    in-process); committing every 4th block took the request from 464 to 333 µs, every 8th to
    307 (bench/PROFILE.md).

    Reads use a connection of their own, so they see committed data only, never a block's
    writes that a failed COMMIT could still undo, and never wait for a batch."""

    dialect = "sqlite"

    def __init__(self, path: str, *, timeout: float, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None
        self._connection: SQLiteConnection | None = None
        self._read_connection: SQLiteConnection | None = None
        self._batch: _Batch | None = None
        self._in_block = False
        self._read = _Read(self)

    async def connect(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = self._open()
        db.execute("PRAGMA journal_mode=WAL")
        # An acknowledged invoice survives power loss too; NORMAL (WAL: no fsync per commit) is
        # for a connection that only keeps bookkeeping it can redo (`durable=False`).
        db.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
        db.execute("PRAGMA foreign_keys=ON")
        # A savepoint copies each page it changes to a sub-journal: in memory, not a temporary
        # file (with a file, a POST /invoices took 648 µs of CPU instead of 525, in-process).
        db.execute("PRAGMA temp_store=MEMORY")
        reader = self._open()
        # A write in a read block fails at once instead of waiting for the writer's lock.
        reader.execute("PRAGMA query_only=ON")
        self._db, self._reader = db, reader
        self._connection = SQLiteConnection(db)
        self._read_connection = SQLiteConnection(reader)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        db.row_factory = sqlite3.Row
        db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        return db

    async def close(self) -> None:
        if self._batch is not None:  # its blocks are waiting for this commit
            self._commit(self._batch)
        for db in (self._db, self._reader):
            if db is not None:
                db.close()
        self._db = self._reader = self._connection = self._read_connection = None

    def _get(self) -> tuple[sqlite3.Connection, SQLiteConnection]:
        if self._db is None or self._connection is None:
            raise DatabaseUnavailable("the database is not connected")
        return self._db, self._connection

    def read(self) -> AbstractAsyncContextManager[Connection]:
        return self._read

    def write(self) -> AbstractAsyncContextManager[Connection]:
        return _Write(self)

    async def _join(self) -> tuple[SQLiteConnection, "_Batch", bool]:
        """The open transaction, in a savepoint, or a new one (BEGIN IMMEDIATE) with its COMMIT
        queued; True when in a savepoint. The first block needs none: it is alone in the
        transaction until it ends, so a failure rolls the whole of it back."""
        while (batch := self._batch) is not None and batch.blocks >= MAX_BLOCKS:
            await asyncio.shield(batch.done)
        db, connection = self._get()
        if self._in_block:
            raise RuntimeError("a SQLite write block awaited something real: this is a bug")
        in_savepoint = batch is not None
        if batch is None:
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise _unavailable(error) from error
            loop = asyncio.get_running_loop()
            batch = self._batch = _Batch(loop.create_future())
            # Behind every task ready to run now: those that write join this transaction.
            loop.call_soon(self._commit, batch)
        else:
            db.execute("SAVEPOINT block")
        batch.blocks += 1
        self._in_block = True
        return connection, batch, in_savepoint

    def _leave(self, batch: "_Batch", in_savepoint: bool, failed: bool) -> None:
        self._in_block = False
        db = self._db
        if db is None:
            return
        if not in_savepoint:
            if failed:  # the first block: nothing else is in the transaction yet
                self._end(batch, None)
        else:
            try:
                if failed:
                    db.execute("ROLLBACK TO block")
                db.execute("RELEASE block")
            except sqlite3.Error as error:
                # Some errors (a full disk, I/O) roll back the whole transaction in SQLite, and
                # with it the blocks before this one: none of them may be acknowledged.
                batch.broken = batch.broken or error
        if batch.deferred:
            batch.deferred = False
            asyncio.get_running_loop().call_soon(self._commit, batch)

    def _commit(self, batch: "_Batch") -> None:
        if batch.done.done():
            return
        if self._in_block:  # a block awaited something real (a bug): commit once it ends
            batch.deferred = True
            return
        db = self._db
        failure = batch.broken
        if db is None:
            failure = failure or sqlite3.OperationalError("the database was closed")
        elif failure is None and not db.in_transaction:
            failure = sqlite3.OperationalError("the transaction was rolled back by an error")
        elif failure is None:
            try:
                db.execute("COMMIT")
            except sqlite3.Error as error:
                failure = error
        self._end(batch, failure)

    def _end(self, batch: "_Batch", failure: sqlite3.Error | None) -> None:
        """Rolls back what is left of the transaction, and tells its blocks how it ended."""
        if self._batch is batch:
            self._batch = None
        if self._db is not None and self._db.in_transaction:
            self._db.execute("ROLLBACK")
        batch.done.set_result(failure)


class _Batch:
    """One transaction shared by write blocks; `done` gets None once committed, else the error."""

    __slots__ = ("blocks", "broken", "deferred", "done")

    def __init__(self, done: "asyncio.Future[sqlite3.Error | None]") -> None:
        self.done = done
        self.blocks = 0
        self.broken: sqlite3.Error | None = None
        self.deferred = False


class _Write:
    """`SQLiteDatabase.write()`: exits once the transaction it ran in has ended, committed or not,
    so that what the block wrote is durable when it exits normally, and whatever a block that
    raised looks up next sees the outcome of the blocks before it (idempotency keys)."""

    __slots__ = ("batch", "database", "in_savepoint")

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    async def __aenter__(self) -> Connection:
        connection, self.batch, self.in_savepoint = await self.database._join()
        return connection

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any
    ) -> None:
        batch = self.batch
        self.database._leave(batch, self.in_savepoint, failed=error is not None)
        # Shielded: a request cancelled while it waits must not cancel the others' commit.
        failure = await asyncio.shield(batch.done)
        if isinstance(error, sqlite3.OperationalError):
            raise _unavailable(error) from error
        if error is None and failure is not None:
            raise _commit_failed(failure) from failure


class _Read:
    """`SQLiteDatabase.read()`: a plain class, where `asynccontextmanager`'s async generator cost
    ~4 µs per block (a GET /invoices/{id} has two: the token and the invoice). It keeps no state
    of a block, so one serves every block of its database, nested or concurrent."""

    __slots__ = ("database",)

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    async def __aenter__(self) -> Connection:
        connection = self.database._read_connection
        if connection is None:
            raise DatabaseUnavailable("the database is not connected")
        return connection

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: Any
    ) -> None:
        if isinstance(error, sqlite3.OperationalError):
            unavailable = _unavailable(error)
            if unavailable is not error:
                raise unavailable from error


def _unavailable(error: sqlite3.OperationalError) -> Exception:
    message = str(error)
    if "locked" in message or "busy" in message or "unable to open" in message:
        return DatabaseUnavailable(message)
    return error


def _commit_failed(failure: sqlite3.Error) -> Exception:
    """A new exception for each block of a failed commit (one instance raised in many tasks
    would collect all their tracebacks)."""
    if isinstance(failure, sqlite3.OperationalError) and _unavailable(failure) is not failure:
        return DatabaseUnavailable(str(failure))
    return type(failure)(str(failure))
