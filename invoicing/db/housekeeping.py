"""Rows that outlive their use (idempotency keys after 24 hours, console sessions after they
expire), deleted every few minutes by every server process; deleting twice is harmless."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

from invoicing.db.base import Connection, Database, DatabaseUnavailable

INTERVAL = 600.0
Job = Callable[[Connection], Awaitable[None]]


async def run_once(database: Database, jobs: Sequence[Job]) -> None:
    for job in jobs:
        async with database.write() as connection:
            await job(connection)


async def run_forever(database: Database, jobs: Sequence[Job], interval: float = INTERVAL) -> None:
    while True:
        # When the database is away, the next round tries again; /health reports it.
        with contextlib.suppress(DatabaseUnavailable):
            await run_once(database, jobs)
        await asyncio.sleep(interval)
