"""One lane of the renderer: its render processes and a bounded first-come queue in front of them.

A render waits for a free process (at most `queue_limit` wait; a token has at most `per_token`
renders waiting or running), then has `time_limit` seconds. A render that runs out of time, or
whose caller stops waiting (the client left), has its process killed and replaced: WeasyPrint
cannot be interrupted any other way. A render still waiting when its caller stops just leaves the
queue.
"""

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter, deque
from collections.abc import Coroutine
from typing import Any

from invoicing.core.errors import (
    RENDER_TIMED_OUT,
    RENDERER_BUSY,
    RENDERER_FAILED,
    TOO_MANY_REQUESTS,
    GatewayTimeout,
    ServiceUnavailable,
    TooManyRequests,
)
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.process import RenderFailed, RenderProcess, RenderProcessDied

log = logging.getLogger("invoicing.documents")

STARTUP_LIMIT = 60.0  # seconds for a new process to load WeasyPrint (measured: 0.6-1.0 s)
CLOSE_LIMIT = 5.0  # seconds for killed processes to be reaped when the server stops
# A render process grows from ~60 MB fresh to 80-90 MB after a few hundred renders (WeasyPrint's
# and Pango's caches; bench: 89 MB after its PDF scenarios). One past RECYCLE_BYTES that has been
# idle for RECYCLE_AFTER seconds is replaced: a fresh one costs ~0.7 s of CPU while nothing
# waits, where replacing it after every so many renders would cost a request that time.
RECYCLE_BYTES = 72 * 2**20
RECYCLE_AFTER = 10.0


class Lane:
    def __init__(
        self,
        name: str,
        *,
        processes: int,
        queue_limit: int,
        per_token: int,
        time_limit: float,
        finish_abandoned: bool = False,
    ) -> None:
        self.name = name
        # A short render whose client left is cheaper to finish (~0.1-1.2 s) than its process is
        # to replace (measured 0.6-1.0 s, during which the lane serves nobody).
        self._finish_abandoned = finish_abandoned
        self._size = processes
        self._queue_limit = queue_limit
        self._per_token = per_token
        self._time_limit = time_limit
        self._processes: set[RenderProcess] = set()  # every live one: starting, idle or busy
        self._idle: list[RenderProcess] = []
        self._idle_since: dict[RenderProcess, float] = {}
        self._waiters: deque[asyncio.Future[RenderProcess]] = deque()
        self._renders_by_token: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._typical_seconds = 1.0  # of one render, for Retry-After
        self._closed = False

    @property
    def idle(self) -> bool:
        """Whether a render would start now, without waiting for a process."""
        return bool(self._idle)

    def start(self) -> None:
        for _ in range(self._size):
            self._run(self._start_process())
        self._run(self._recycle())

    async def render(self, document: InvoiceDocument, token: str) -> bytes:
        self._admit(token)
        self._renders_by_token[token] += 1
        try:
            return await self._render_on(await self._acquire(), document)
        finally:
            self._renders_by_token[token] -= 1
            if not self._renders_by_token[token]:
                del self._renders_by_token[token]

    async def close(self) -> None:
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(self._busy(RENDERER_BUSY))
        processes = list(self._processes)
        self._processes.clear()
        self._idle.clear()
        for process in processes:
            process.kill()
        ending = [*tasks, *(asyncio.ensure_future(p.wait()) for p in processes)]
        if ending:
            _, late = await asyncio.wait(ending, timeout=CLOSE_LIMIT)
            if late:
                log.warning("%d render process(es) of lane %s did not end", len(late), self.name)

    def _admit(self, token: str) -> None:
        if self._closed:
            raise self._busy(RENDERER_BUSY)
        if self._renders_by_token[token] >= self._per_token:
            raise TooManyRequests(TOO_MANY_REQUESTS, retry_after=self._retry_after())
        if not self._idle and len(self._waiters) >= self._queue_limit:
            raise self._busy(RENDERER_BUSY)

    async def _acquire(self) -> RenderProcess:
        while self._idle:
            process = self._idle.pop()
            if process.alive:
                return process
            self._replace(process)  # died while idle (the OOM killer, say)
        waiter: asyncio.Future[RenderProcess] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._release(waiter.result())  # handed a process just as its caller left
            raise
        finally:
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)

    async def _render_on(self, process: RenderProcess, document: InvoiceDocument) -> bytes:
        started = time.monotonic()
        # The render itself is never cancelled half-way through its pipe exchange: it runs as a
        # task of its own, which is either awaited to its end or killed with its process.
        work = asyncio.ensure_future(process.render(document))
        try:
            async with asyncio.timeout(self._time_limit):
                pdf = await asyncio.shield(work)
        except asyncio.CancelledError:  # nobody waits for this PDF any more
            if self._finish_abandoned:
                self._run(self._finish(process, work, started))
            else:
                work.cancel()
                self._replace(process)
            raise
        except RenderFailed:
            self._release(process)
            raise
        except TimeoutError:
            work.cancel()
            self._replace(process)
            log.warning("a %d-line render passed the time limit", len(document.lines))
            raise GatewayTimeout(RENDER_TIMED_OUT) from None
        except RenderProcessDied:
            self._replace(process)
            raise self._busy(RENDERER_FAILED) from None
        self._release(process)
        self._typical_seconds += (time.monotonic() - started - self._typical_seconds) / 5
        return pdf

    async def _finish(
        self, process: RenderProcess, work: "asyncio.Future[bytes]", started: float
    ) -> None:
        """Let an abandoned render end (within the time limit), then give its process back."""
        try:
            async with asyncio.timeout(self._time_limit - (time.monotonic() - started)):
                await work
        except RenderFailed:
            self._release(process)
        except asyncio.CancelledError:  # the lane is closing
            work.cancel()
            self._replace(process)
            raise
        except (TimeoutError, RenderProcessDied):
            work.cancel()
            self._replace(process)
        else:
            self._release(process)

    def _release(self, process: RenderProcess) -> None:
        if self._closed:
            process.kill()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(process)
                return
        self._idle.append(process)
        self._idle_since[process] = time.monotonic()

    async def _recycle(self) -> None:
        """Replace the idle processes that have grown (see RECYCLE_BYTES)."""
        while not self._closed:
            await asyncio.sleep(RECYCLE_AFTER / 2)
            now = time.monotonic()
            for process in list(self._idle):
                since = self._idle_since.get(process, now)
                grown = (process.resident_bytes() or 0) > RECYCLE_BYTES
                if grown and now - since >= RECYCLE_AFTER:
                    self._idle.remove(process)
                    self._replace(process)

    def _replace(self, process: RenderProcess) -> None:
        process.kill()
        self._processes.discard(process)
        self._idle_since.pop(process, None)
        if not self._closed:
            self._run(self._restart(process))

    async def _restart(self, dead: RenderProcess) -> None:
        await dead.wait()  # one WeasyPrint process's memory at a time
        await self._start_process()

    async def _start_process(self) -> None:
        while not self._closed:
            process: RenderProcess | None = None
            try:
                process = await RenderProcess.start()
                self._processes.add(process)
                async with asyncio.timeout(STARTUP_LIMIT):
                    await process.ready()
            except (OSError, TimeoutError, RenderProcessDied):
                log.exception("a render process for lane %s could not start", self.name)
                if process is not None:
                    process.kill()
                    self._processes.discard(process)
                await asyncio.sleep(1)
                continue
            except BaseException:
                if process is not None:
                    process.kill()
                raise
            self._release(process)
            return

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _retry_after(self) -> int:
        return math.ceil(self._typical_seconds)

    def _busy(self, message: str) -> ServiceUnavailable:
        return ServiceUnavailable(message, retry_after=self._retry_after())
