"""Statements written once, in PostgreSQL's form, and their SQLite form derived from it."""

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

# `$1` -> `?1`: SQLite's numbered parameters, so a parameter may be used twice or out of order.
_PARAMETER = re.compile(r"\$(\d+)")
# Row locks (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, ... with NOWAIT / SKIP LOCKED): SQLite has
# none, and needs none, since its write transactions (BEGIN IMMEDIATE) hold the one database-wide
# write lock.
_ROW_LOCK = re.compile(
    r"\s+FOR\s+(?:NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)(?:\s+OF\s+\w+(?:\s*,\s*\w+)*)?"
    r"(?:\s+NOWAIT|\s+SKIP\s+LOCKED)?",
    re.IGNORECASE,
)


def to_sqlite(sql: str) -> str:
    return _ROW_LOCK.sub("", _PARAMETER.sub(r"?\1", sql))


class Query:
    """A statement in PostgreSQL's form (`$1`, `FOR UPDATE`) and in SQLite's."""

    __slots__ = ("postgres", "sqlite")

    def __init__(self, sql: str, *, sqlite: str | None = None) -> None:
        """`sqlite`: the SQLite form, where deriving it is not enough (an exact sum of money)."""
        self.postgres = sql
        self.sqlite = to_sqlite(sqlite if sqlite is not None else sql)


def exact_sum(column: str) -> tuple[str, str]:
    """SUM of a money column, exact on both databases: PostgreSQL sums NUMERIC; SQLite, whose
    money is text and whose SUM of decimals is a float, sums ten-thousandths as integers (money
    has at most 4 decimals; exact up to 9 x 10^14) and the caller divides by 10,000."""
    return f"SUM({column})", f"SUM(CAST(ROUND(CAST({column} AS REAL) * 10000) AS INTEGER))"


def contains(text: str) -> str:
    """A LIKE pattern (with `ESCAPE '!'`) for `text` anywhere in a lower-cased column, its own %
    and _ taken literally."""
    escaped = text.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


@cache
def placeholders(count: int, start: int = 1) -> str:
    """`$1, $2, $3` for an IN list of `count` values (statements are cached per length)."""
    return ", ".join(f"${n}" for n in range(start, start + count))


class Insert:
    """`INSERT INTO table (columns) VALUES (...)` for rows given as mappings by column name: the
    one way every repository writes new rows."""

    __slots__ = ("columns", "query")

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.columns = tuple(columns)
        self.query = Query(
            f"INSERT INTO {table} ({', '.join(self.columns)}) "
            f"VALUES ({placeholders(len(self.columns))})"
        )

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        return [row[column] for column in self.columns]
