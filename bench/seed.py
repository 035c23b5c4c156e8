"""Fresh databases and fast bulk seeding (sqlite3 executemany, PostgreSQL COPY) into the schema.

Every seeded order has 5 lines (2 x 19.99 each, tax rates 0, 8.25 and 19 %). An invoiced order has
one invoice covering all of it; an open order is what one `POST /invoices` turns into an invoice.
"""

import asyncio
import itertools
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from bench import rows
from bench.rows import (
    INVOICE_COLUMNS,
    INVOICE_LINE_COLUMNS,
    ORDER_COLUMNS,
    ORDER_LINE_COLUMNS,
    invoice_id,
    make_id,
)

__all__ = ["Seeder", "Target", "create", "drop", "invoice_id"]

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
CHUNK = 50_000


@dataclass
class Target:
    dialect: str  # "sqlite" or "postgresql"
    url: str
    name: str  # the SQLite file path or the PostgreSQL database name


def create(dialect: str, directory: Path) -> Target:
    if dialect == "sqlite":
        path = directory / "bench.db"
        return Target("sqlite", f"sqlite:///{path}", str(path))
    name = f"invoicing_bench_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return Target("postgresql", ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name)


def drop(target: Target) -> None:
    if target.dialect == "postgresql":
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


class Seeder:
    """Writes rows straight into the database. Open orders get fresh ids on every call."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._open = itertools.count()

    def invoices(self, count: int) -> float:
        """`count` invoiced orders, each with one invoice of 5 lines; returns the seconds taken."""
        started = time.perf_counter()
        tables = {
            "orders": (rows.order(make_id(1, i), "invoiced") for i in range(count)),
            "order_lines": (
                line for i in range(count) for line in rows.order_lines(1, i, invoiced=True)
            ),
            "invoices": (rows.invoice(i) for i in range(count)),
            "invoice_lines": (line for i in range(count) for line in rows.invoice_lines(i)),
        }
        self._write(tables, counter=count, analyze=True)
        return time.perf_counter() - started

    def open_orders(self, count: int) -> list[str]:
        """`count` open orders of 5 lines each; returns their ids."""
        indexes = [next(self._open) for _ in range(count)]
        tables = {
            "orders": (rows.order(make_id(5, i), "open") for i in indexes),
            "order_lines": (
                line for i in indexes for line in rows.order_lines(5, i, invoiced=False)
            ),
        }
        self._write(tables, counter=None, analyze=False)
        return [make_id(5, i) for i in indexes]

    def _write(
        self, tables: Mapping[str, Iterable[Sequence[Any]]], counter: int | None, analyze: bool
    ) -> None:
        if self.target.dialect == "sqlite":
            _write_sqlite(self.target.name, tables, counter, analyze)
        else:
            asyncio.run(_write_postgres(self.target.url, tables, counter, analyze))


_COLUMNS = {
    "orders": ORDER_COLUMNS,
    "order_lines": ORDER_LINE_COLUMNS,
    "invoices": INVOICE_COLUMNS,
    "invoice_lines": INVOICE_LINE_COLUMNS,
}


def _write_sqlite(
    path: str, tables: Mapping[str, Iterable[Sequence[Any]]], counter: int | None, analyze: bool
) -> None:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("BEGIN IMMEDIATE")
        for table, rows in tables.items():
            columns = _COLUMNS[table]
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            db.executemany(sql, (tuple(map(_sqlite_value, row)) for row in rows))
        if counter is not None:
            db.execute("UPDATE counters SET value = ? WHERE name = 'invoice'", (counter,))
        db.execute("COMMIT")
        if analyze:
            db.execute("ANALYZE")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def _sqlite_value(value: Any) -> Any:
    # What the service stores on SQLite: Decimal as its string, times as ISO strings with ms.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return value


async def _write_postgres(
    url: str, tables: Mapping[str, Iterable[Sequence[Any]]], counter: int | None, analyze: bool
) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            # The rows are consistent by construction: skip the per-row foreign key triggers.
            await connection.execute("SET LOCAL session_replication_role = replica")
            for table, rows in tables.items():
                for chunk in _chunks(rows):
                    await connection.copy_records_to_table(
                        table, records=chunk, columns=list(_COLUMNS[table])
                    )
            if counter is not None:
                await connection.execute(
                    "UPDATE counters SET value = $1 WHERE name = 'invoice'", counter
                )
        if analyze:
            await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


def _chunks(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk
