"""What every backend offers: connections that run `Query`s, in reads or in transactions."""

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from invoicing.db.query import Query

Row = Mapping[str, Any]


class DatabaseUnavailable(Exception):
    """The database did not answer in time (down, unreachable, or locked past the busy timeout)."""


class Connection(ABC):
    dialect: str  # "sqlite" or "postgresql", for the rare statement the two must write apart

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

    async def ping(self) -> None:
        async with self.read() as connection:
            await connection.fetchval(_PING)


_PING = Query("SELECT 1")
