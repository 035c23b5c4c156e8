"""The delivery process: `python -m invoicing.webhooks.worker PARENT_PID`.

Each server process runs its webhook dispatcher here, in a child at a lower CPU priority: the
attempts' HTTP, signing and bookkeeping then take the CPU the API leaves, and add nothing to an
API request's latency (bench: GET p99 1.4-2x of idle while a dispatcher in the server process
drained a backlog). Deliveries are claimed in the database, so this process keeps no state.

stdin: the settings delivery uses as one JSON line (`DeliverySettings`), then a line per "look
now" (a ping or retry was queued); its end means the server is gone. stdout: a JSON line per round
with the attempts by outcome and the age of the oldest pending event, which the server adds to its
own metrics.
"""

import asyncio
import os
import sys
from collections import Counter
from typing import IO

import orjson

from invoicing.core.lifetime import background_priority, exit_with
from invoicing.core.pacing import Pacer, process_cpu
from invoicing.db import create_database
from invoicing.web import logs
from invoicing.webhooks.delivery_settings import DeliverySettings
from invoicing.webhooks.dispatcher import Dispatcher, Metrics
from invoicing.webhooks.signing import SecretBox

# Connections: one at a time is what the dispatcher uses; one more for its gauge and pruning.
POOL_SIZE = 2


class Reports(Metrics):
    """The round's figures, as a line to the server."""

    def __init__(self, channel: IO[bytes]) -> None:
        self.channel = channel
        self.attempts: Counter[str] = Counter()
        self.oldest: float | None = None

    def attempted(self, outcome: str) -> None:
        self.attempts[outcome] += 1

    def oldest_pending(self, seconds: float) -> None:
        self.oldest = seconds

    def flush(self) -> None:
        if not self.attempts and self.oldest is None:
            return
        report = {"attempts": dict(self.attempts), "oldest": self.oldest}
        self.channel.write(orjson.dumps(report) + b"\n")
        self.channel.flush()
        self.attempts.clear()
        self.oldest = None


async def serve(
    settings: DeliverySettings, commands: asyncio.StreamReader, reports: IO[bytes]
) -> None:
    logs.configure(settings.log_level)
    # What the dispatcher writes (claims, outcomes) is safe to lose in a crash: an unrecorded
    # claim is simply not leased, an unrecorded delivery is sent again (at least once). So its
    # commits do not wait for the disk, and leave the disk to the API's (bench: with a dispatcher
    # committing durably beside it, POST /invoices on PostgreSQL fell to 0.63x).
    database = create_database(
        settings.database_url, pool_size=POOL_SIZE, timeout=settings.db_timeout, durable=False
    )
    await database.connect()
    # New attempts start while the server is not busy, and at least once a second when it is.
    dispatcher = Dispatcher(
        database,
        settings,
        SecretBox(settings.secret_key),
        metrics=Reports(reports),
        pacer=Pacer(process_cpu(os.getppid())),
    )
    work = asyncio.create_task(dispatcher.run_forever())
    try:
        while await commands.readline():
            dispatcher.wake()
    finally:  # the server closed our stdin: it is stopping
        work.cancel()
        await asyncio.gather(work, return_exceptions=True)
        await dispatcher.close()
        await database.close()


async def _main() -> None:
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)
    settings = DeliverySettings.from_json(await commands.readline())
    # Reports go to the original stdout; anything a library prints goes to stderr instead.
    reports = open(os.dup(sys.stdout.fileno()), "wb")  # noqa: SIM115 (lives as long as we do)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    await serve(settings, commands, reports)


def main(parent: int) -> None:
    exit_with(parent)
    background_priority()
    asyncio.run(_main())


if __name__ == "__main__":
    main(int(sys.argv[1]))
