"""Fresh databases and fast bulk seeding (sqlite3 executemany, PostgreSQL COPY) into the schema.

The rows are copies of what the service itself writes (`bench/rows.py`): the seller profile,
invoiced orders each with one invoice of 5 lines, large invoiced orders for payments and credit
notes, and open orders, each of which one `POST /invoices` turns into an invoice.
"""

import asyncio
import itertools
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench import rows
from bench.rows import COLUMNS, CREDITED_POSITION, LARGE, SMALL, Rows, Shape, invoice_id
from invoicing.auth.principal import Principal
from invoicing.config import Settings

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

    def __init__(self, target: Target, creator: Principal, settings: Settings) -> None:
        self.target = target
        dialect = target.dialect
        self.small = Rows(
            dialect, Shape(dialect, rows.ORDER_BODY, creator, settings), settings, SMALL
        )
        large = Shape(dialect, rows.LARGE_ORDER_BODY, creator, settings)
        self.large = Rows(dialect, large, settings, LARGE)
        self._open = itertools.count()

    def invoices(self, count: int, large: int) -> float:
        """The seller profile, `count` invoiced orders each with one invoice of 5 lines, then
        `large` large ones (see `large_invoices`); returns the seconds taken."""
        started = time.perf_counter()
        small, big = self.small, self.large
        tables = {
            "seller_profile": [small.seller],
            "orders": itertools.chain(
                (small.order(i) for i in range(count)), (big.order(i) for i in range(large))
            ),
            "order_lines": itertools.chain(
                (line for i in range(count) for line in small.order_lines(i)),
                (line for i in range(large) for line in big.order_lines(i)),
            ),
            "invoices": itertools.chain(
                (small.invoice(i, i + 1) for i in range(count)),
                (big.invoice(i, count + i + 1) for i in range(large)),
            ),
            "invoice_lines": itertools.chain(
                (line for i in range(count) for line in small.invoice_lines(i)),
                (line for i in range(large) for line in big.invoice_lines(i)),
            ),
        }
        # The invoices' gapless counters: the plain one and their number series.
        counters = {"invoice": count + large, small.series: count + large}
        self._write(tables, counters, settle=True)
        return time.perf_counter() - started

    @staticmethod
    def large_invoices(large: int) -> list[tuple[str, str]]:
        """The large invoices' ids, each with the id of the line its credit notes take from."""
        return [
            (rows.large_invoice_id(i), rows.large_invoice_line_id(i, CREDITED_POSITION))
            for i in range(large)
        ]

    def open_orders(self, count: int) -> list[str]:
        """`count` open orders of 5 lines each; returns their ids."""
        indexes = [next(self._open) for _ in range(count)]
        tables = {
            "orders": (self.small.open_order(i) for i in indexes),
            "order_lines": (line for i in indexes for line in self.small.open_order_lines(i)),
        }
        self._write(tables, counters={}, settle=False)
        return [rows.make_id(rows.OPEN[0], i) for i in indexes]

    def _write(
        self,
        tables: Mapping[str, Iterable[Sequence[Any]]],
        counters: Mapping[str, int],
        settle: bool,
    ) -> None:
        """With `settle` (after the big seed), the database's and the kernel's deferred work is
        done before any run: statistics, the checkpoint of the seed's WAL, dirty pages on disk.
        Otherwise the first server measured after seeding shares the machine with it (at 10^6 on
        PostgreSQL a checkpoint was requested in the middle of the POST runs)."""
        if self.target.dialect == "sqlite":
            _write_sqlite(self.target.name, tables, counters, settle)
        else:
            asyncio.run(_write_postgres(self.target.url, tables, counters, settle))


_SET_COUNTER = (
    "INSERT INTO counters (name, value) VALUES ($1, $2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


def _write_sqlite(
    path: str,
    tables: Mapping[str, Iterable[Sequence[Any]]],
    counters: Mapping[str, int],
    settle: bool,
) -> None:
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        db.execute("BEGIN IMMEDIATE")
        for table, records in tables.items():
            columns = COLUMNS[table]
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            db.executemany(sql, records)  # already in the service's SQLite forms (rows.write_form)
        db.executemany(_SET_COUNTER.replace("$", "?"), counters.items())
        db.execute("COMMIT")
        if settle:
            db.execute("ANALYZE")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    if settle:
        os.sync()


async def _write_postgres(
    url: str,
    tables: Mapping[str, Iterable[Sequence[Any]]],
    counters: Mapping[str, int],
    settle: bool,
) -> None:
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            # The rows are consistent by construction: skip the per-row foreign key triggers.
            await connection.execute("SET LOCAL session_replication_role = replica")
            for table, records in tables.items():
                for chunk in _chunks(records):
                    await connection.copy_records_to_table(
                        table, records=chunk, columns=list(COLUMNS[table])
                    )
            await connection.executemany(_SET_COUNTER, list(counters.items()))
        if settle:
            await connection.execute("VACUUM ANALYZE")
            await connection.execute("CHECKPOINT")
    finally:
        await connection.close()
    if settle:
        os.sync()


def _chunks(rows: Iterable[Sequence[Any]]) -> Iterator[list[Sequence[Any]]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        yield chunk
