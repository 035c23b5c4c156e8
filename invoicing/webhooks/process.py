"""The server's side of its delivery process (`invoicing.webhooks.worker`): started with the
server, told to look now when a ping or retry is queued, restarted if it dies, its figures added
to the server's own metrics, and gone with the server."""

import asyncio
import contextlib
import logging
import os
import sys

import orjson
from starlette.requests import Request

from invoicing.config import Settings
from invoicing.core import keys
from invoicing.webhooks.delivery_settings import DeliverySettings
from invoicing.webhooks.metrics import ATTEMPTS, OLDEST_PENDING

log = logging.getLogger("invoicing.webhooks")
RESTART_AFTER = 1.0


def wake(request: Request) -> None:
    """Let this server's deliveries start now (a ping or retry was queued) rather than at the
    next poll."""
    delivery = request.app.state.webhook_dispatcher
    if delivery is not None:
        delivery.wake()


class DeliveryProcess:
    def __init__(self, settings: Settings) -> None:
        self.settings = DeliverySettings.of(settings, keys.secret_key(settings))
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise())

    def wake(self) -> None:
        process = self._process
        if process is not None and process.stdin is not None and process.returncode is None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                process.stdin.write(b"\n")

    async def close(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        await self._stop()

    async def _supervise(self) -> None:
        while True:
            await self._run_once()
            log.error("the webhook delivery process ended; starting another")
            await asyncio.sleep(RESTART_AFTER)

    async def _run_once(self) -> None:
        self._process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-P",  # not the working directory first on sys.path
            "-m",
            "invoicing.webhooks.worker",
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(self.settings.to_json() + b"\n")
        try:
            while line := await process.stdout.readline():
                _count(orjson.loads(line))
        finally:
            await self._stop()

    async def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        await process.wait()


def _count(report: dict[str, object]) -> None:
    attempts = report.get("attempts")
    if isinstance(attempts, dict):
        for outcome, count in attempts.items():
            ATTEMPTS.labels(outcome).inc(count)
    oldest = report.get("oldest")
    if isinstance(oldest, (int, float)):
        OLDEST_PENDING.set(oldest)
