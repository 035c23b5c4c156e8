"""The embedded default: sqlite3 in WAL mode, one connection per process."""

import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
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


class SQLiteConnection(Connection):
    """sqlite3 called on the event loop: each call is short, and no other task can interleave
    inside a transaction because nothing in it truly awaits."""

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
    dialect = "sqlite"

    def __init__(self, path: str, *, timeout: float, durable: bool = True) -> None:
        self.path = path
        self.durable = durable
        self.timeout = timeout
        self._db: sqlite3.Connection | None = None
        self._connection: SQLiteConnection | None = None
        self._in_transaction = False
        self._read = _Read(self)

    async def connect(self) -> None:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
        )
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode=WAL")
        # An acknowledged invoice survives power loss too; NORMAL (WAL: no fsync per commit) is
        # for a connection that only keeps bookkeeping it can redo (`durable=False`).
        db.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
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

    def read(self) -> AbstractAsyncContextManager[Connection]:
        return self._read

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


class _Read:
    """`SQLiteDatabase.read()`: a plain class, where `asynccontextmanager`'s async generator cost
    ~4 µs per block (a GET /invoices/{id} has two: the token and the invoice). It keeps no state
    of a block, so one serves every block of its database, nested or concurrent."""

    __slots__ = ("database",)

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    async def __aenter__(self) -> Connection:
        connection = self.database._connection
        if connection is None or self.database._db is None:
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
