"""PDF rendering in separate processes, in two lanes: small documents and large ones.

WeasyPrint is CPU-bound pure Python for most of a render: in a thread it holds the GIL, and a
GET that arrives meanwhile waits (measured: GET p99 16 ms -> 490 ms while PDFs render). In
processes of their own, renders use the other core and leave the event loop alone.

Why lanes rather than one queue ordered by size: a render cannot be paused, so with one process
a one-page PDF would still wait for the huge render already running. Measured on this machine
(render alone, longest line names the API accepts): 1 line 0.1 s, 50 lines 1.2 s, 500 lines
12.4 s, and about twice that while the server is busy. With a process of its own, a document of at
most `small_document_lines` lines waits only for other small ones. The price is a second
process: 62 MB when idle (measured), idle most of the time.
"""

import asyncio

from invoicing.config import Settings
from invoicing.documents.lane import Lane
from invoicing.documents.model import InvoiceDocument


class PdfRenderer:
    def __init__(
        self,
        *,
        small_document_lines: int = 50,
        time_limit: float = 60.0,
        queue_limit: int = 10,
        per_token: int = 2,
        processes_per_lane: int = 1,
    ) -> None:
        def lane(name: str, finish_abandoned: bool) -> Lane:
            return Lane(
                name,
                processes=processes_per_lane,
                queue_limit=queue_limit,
                per_token=per_token,
                time_limit=time_limit,
                finish_abandoned=finish_abandoned,
            )

        self._small_document_lines = small_document_lines
        self._small = lane("small", finish_abandoned=True)
        self._large = lane("large", finish_abandoned=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "PdfRenderer":
        return cls(
            small_document_lines=settings.pdf_small_document_lines,
            time_limit=settings.pdf_render_timeout,
            queue_limit=settings.pdf_queue_limit,
            per_token=settings.pdf_queue_limit_per_token,
        )

    def start(self) -> None:
        """Start the processes; each loads WeasyPrint before the first request needs it."""
        self._small.start()
        self._large.start()

    async def render(self, document: InvoiceDocument, *, token: str) -> bytes:
        """The PDF, rendered for `token`'s holder; cancelling it frees its place at once.

        Raises TooManyRequests (429) past the token's limit, ServiceUnavailable (503) when the
        lane's queue is full, GatewayTimeout (504) past the time limit.
        """
        small = len(document.lines) <= self._small_document_lines
        return await (self._small if small else self._large).render(document, token)

    async def close(self) -> None:
        """Kill every render process and wait (a few seconds at most) until they are gone."""
        await asyncio.gather(self._small.close(), self._large.close())
