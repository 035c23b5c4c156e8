"""Issued documents rendered ahead of their first request, off the request path.

After an invoice or a credit note commits, its PDF takes a render (65-105 ms for one page, seconds
for hundreds of lines) that its first `GET .../pdf` or send would otherwise wait for. Each server
process runs this loop: every `render_ahead_interval` seconds (with jitter, so that processes do
not look in step) it takes the newest documents without a stored PDF and, one at a time, renders
and stores the PDF, then the e-invoices the rules accept (delivery.store_missing).

It only works while the server is idle, in three ways:
- a document starts only while this process used under a quarter of a core over the last 200 ms
  (invoicing.core.pacing.Pacer, BUSY_SHARE: with no floor, it never starts while the process
  stays busy);
- nothing starts while a request waits for a render in this process; in the serve's render pool
  (invoicing.documents.pool), a render ahead takes a process only while one is idle, and a
  request of any server process that would wait gives it up (the lane finishes a small one,
  whose process is then free in ~0.1 s, and kills a large one, replaced in ~1 s, rather than
  keeping the request waiting for seconds);
- the render processes run at nice 10.

Bounded: at its start a process looks at most at the newest BACKLOG documents of each kind, and
afterwards only at newer ones (`invoicing documents render-missing` stores the rest). Several
processes may render the same document at the same moment; the store keeps the first one stored
(INSERT ... ON CONFLICT DO NOTHING), so that costs a render, never a second version. Each takes
the documents of a look in an order of its own and checks that one is still missing just before
rendering it, which makes that rare.
"""

import asyncio
import contextlib
import logging
import math
import os
import random
from collections.abc import Iterator

from invoicing.config import Settings
from invoicing.core.errors import ServiceUnavailable, TooManyRequests
from invoicing.core.pacing import WINDOW, Pacer, process_cpu
from invoicing.db.base import Database, DatabaseUnavailable
from invoicing.documents import delivery, store
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pool import AHEAD_TOKEN
from invoicing.documents.renderer import PdfRenderer
from invoicing.documents.store import PDF, DocumentType

log = logging.getLogger("invoicing.documents")

BATCH = 20  # documents per look
BACKLOG = 1000  # at start, the newest this many documents of each kind at most
TOKEN = AHEAD_TOKEN  # its place in the pool's queues (one render at a time per process)
_TYPES: tuple[DocumentType, ...] = ("invoice", "credit_note")
_FAILED_LIMIT = 100  # documents that failed to render, skipped for a while


class RenderAhead:
    def __init__(
        self,
        database: Database,
        settings: Settings,
        renderer: PdfRenderer,
        *,
        pacer: Pacer | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._renderer = renderer
        self._interval = settings.render_ahead_interval
        self._pacer = pacer or Pacer(process_cpu(os.getpid()), floor=math.inf)
        self._requests = 0  # renders that requests wait for, in this process
        self._current: asyncio.Future[list[store.Format]] | None = None
        # Per kind, the seq below which documents are not looked at (any more).
        self._floors: dict[DocumentType, int] = {}
        self._failed: set[str] = set()
        self.stored = 0  # documents that got something stored, for tests and curiosity

    @contextlib.contextmanager
    def yielding(self) -> Iterator[None]:
        """Around a render that a request waits for: nothing renders ahead meanwhile, and a
        render ahead under way is given up (and tried again later)."""
        self._requests += 1
        if self._current is not None:
            self._current.cancel()
        try:
            yield
        finally:
            self._requests -= 1

    async def run(self) -> None:
        """Forever (until cancelled): look, render what is missing, wait."""
        while True:
            await asyncio.sleep(self._interval * random.uniform(0.5, 1.5))
            try:
                await self.round()
            except DatabaseUnavailable:
                pass  # the next look tries again; /health reports it
            except Exception:
                log.exception("rendering documents ahead failed")

    async def round(self) -> int:
        """One look: store what is missing of the documents found, each once the process is
        idle; how many documents got something stored."""
        if not self._idle():
            return 0
        done = 0
        for document_type in _TYPES:
            ids, top, complete = await self._missing(document_type)
            for id in ids:
                while not self._idle():
                    await asyncio.sleep(WINDOW)
                outcome = await self._store(document_type, id)
                if outcome is None:  # interrupted: this look ends, the next one goes on
                    return done
                done += outcome
            if complete:  # everything up to `top` was stored or tried
                self._floors[document_type] = top
        return done

    def _idle(self) -> bool:
        return self._requests == 0 and self._pacer.may_start()

    async def _missing(self, document_type: DocumentType) -> tuple[list[str], int, bool]:
        """The newest documents without a stored PDF (skipping those that failed), the newest
        seq of the kind, and whether that was every one missing up to it."""
        limit = BATCH + len(self._failed)
        async with self._database.read() as connection:
            top = await store.newest(connection, document_type)
            floor = self._floors.setdefault(document_type, max(0, top - BACKLOG))
            rows = await store.newest_without_pdf(connection, document_type, floor, top, limit)
        ids = [id for _, id in rows if id not in self._failed][:BATCH]
        # The newest first, in an order of this process's own: processes that look at the same
        # moment then seldom take the same document (each checks it is missing just before).
        random.shuffle(ids)
        return ids, top, len(rows) < limit

    async def _store(self, document_type: DocumentType, id: str) -> int | None:
        """1 when something was stored, 0 when nothing was (done meanwhile, or failed), None
        when a request interrupted it or the renderer is busy."""
        if await store.find_sha256(self._database, id, PDF) is not None:
            return 0  # stored meanwhile (a request, another process)
        kind = delivery.KINDS[document_type]
        work = asyncio.ensure_future(
            delivery.store_missing(self._database, kind, id, self._settings, self._render)
        )
        self._current = work
        try:
            stored = await work
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if work.cancelled() and task is not None and not task.cancelling():
                return None  # given up for a request
            raise
        except (ServiceUnavailable, TooManyRequests):
            return None
        except DatabaseUnavailable:
            raise
        except Exception as error:  # a render that failed or ran out of time: not again soon
            log.warning("rendering %s %s ahead failed: %s", document_type, id, error)
            if len(self._failed) >= _FAILED_LIMIT:
                self._failed.clear()
            self._failed.add(id)
            return 0
        finally:
            self._current = None
        if not stored:
            return 0
        self.stored += 1
        return 1

    async def _render(self, document: InvoiceDocument) -> bytes:
        return await self._renderer.render(document, token=TOKEN)
