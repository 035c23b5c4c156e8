"""The HTTP protocol `invoicing serve` runs: uvicorn's own (httptools), plus the deadlines and
limits uvicorn 0.54 lacks.

uvicorn closes a connection that idles after a response (`timeout_keep_alive`), and nothing else:
a connection that never sends a byte, sends its headers a byte at a time, or keeps trickling a body
the app has already answered is held for ever (each byte cancels the keep-alive timer, and nothing
re-arms it). httptools buffers a request's headers without limit (uvicorn's
`h11_max_incomplete_event_size` is for its h11 protocol only). `limit_concurrency` answers 503 only
once a request's headers are complete, so it cannot stop connections that never complete them.
So, per connection:

- a request's headers must be complete within `header_timeout` of the connection opening (its first
  request) or of the request's first byte (a later one): else 408, or a plain close if nothing came;
- a head still incomplete after `MAX_HEADER_BYTES` gets 431;
- a body still arriving after its response was sent gets `timeout_keep_alive` more, in total;
- a connection beyond `max_connections` in this process is answered 503 and closed at once.

Its writes go through `CoalescingTransport`: a response's head and body leave in one `send()`.

While the app reads a body, its deadline is the app's (`LimitBody`), which answers 408 itself.

A subclass, because the state these deadlines follow changes in the parser's callbacks: a watchdog
task scanning the connections would have to read the same protocol state from outside, on a tick.
"""

import asyncio
import os
import resource
import sys
from typing import Any

from prometheus_client import Counter
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from invoicing.config import Settings, get_settings
from invoicing.core.errors import HEADERS_TIMEOUT, HEADERS_TOO_LARGE, TOO_MANY_CONNECTIONS
from invoicing.web.coalescing import CoalescingTransport
from invoicing.web.responses import error_body

MAX_HEADER_BYTES = 64 * 1024
# Files a server process keeps open besides its connections and database pool: measured 28 (log,
# event loop, SQLite and its journal, the PDF renderer); the rest is headroom (mail, fonts).
OTHER_FILES = 100

CLOSED = Counter(
    "invoicing_connections_closed_total",
    "Connections the server closed because the client broke a limit",
    ["reason"],
)


class HttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout = settings.header_timeout
        self.max_connections = settings.max_connections
        # The head's deadline is a time, checked when its timer fires: a keep-alive connection's
        # requests move the time, not the timer (call_later and cancel per request: 1.6 µs).
        self.head_deadline = 0.0
        self.head_timer: asyncio.TimerHandle | None = None
        self.body_timer: asyncio.TimerHandle | None = None
        self.in_head = False  # from a request's first byte to the end of its headers
        self.head_bytes = 0
        self.heads_begun = 0  # in the read being parsed
        self.body_pending = False  # the request's headers are in, not all of its body

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # (After uvicorn's own: its flow control pauses and resumes reading on the real one.)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]
        if len(self.connections) > self.max_connections:
            self.refuse(503, TOO_MANY_CONNECTIONS, "connection_limit", b"retry-after: 1\r\n")
            return
        self.watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # A head is measured in the reads it arrives in: all of a read that starts or continues
        # one. One that begins behind another request in the same read (pipelining) is measured
        # from its next read on; one that arrives whole in a single read is not measured.
        continues = self.in_head
        starts = not self.in_head and not self.body_pending
        self.heads_begun = 0
        super().data_received(data)
        if self.in_head and not self.transport.is_closing():
            if (continues and self.heads_begun == 0) or (starts and self.heads_begun == 1):
                self.head_bytes += len(data)
            if self.head_bytes > MAX_HEADER_BYTES:
                self.refuse(431, HEADERS_TOO_LARGE, "headers_too_large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.in_head, self.head_bytes = True, 0
        self.heads_begun += 1
        if self.cycle is not None:  # not the connection's first request
            self.watch_head()

    def on_headers_complete(self) -> None:
        self.in_head, self.body_pending = False, True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.body_pending = False
        if self.body_timer is not None:  # the body came after all: the connection lives on
            self.body_timer.cancel()
            self.body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.body_pending and self.cycle.response_complete and not self.transport.is_closing():
            self.body_timer = self.loop.call_later(self.timeout_keep_alive, self.body_timed_out)

    def watch_head(self) -> None:
        """The head now being waited for must be complete `header_timeout` from now."""
        self.head_deadline = self.loop.time() + self.header_timeout
        if self.head_timer is None:
            self.head_timer = self.loop.call_at(self.head_deadline, self.head_timed_out)

    def head_timed_out(self) -> None:
        self.head_timer = None
        if self.cycle is not None and not self.in_head:
            return  # the head came in time: the next one arms the timer again
        if self.loop.time() < self.head_deadline:  # a later request's head moved the deadline
            self.head_timer = self.loop.call_at(self.head_deadline, self.head_timed_out)
        elif self.cycle is not None and not self.cycle.response_complete:
            # A response is under way (a pipelined request is waiting): the server is not reading.
            self.watch_head()
        elif self.in_head:
            self.refuse(408, HEADERS_TIMEOUT, "header_timeout")
        else:
            CLOSED.labels("idle").inc()
            self.transport.close()

    def body_timed_out(self) -> None:
        self.body_timer = None
        if self.body_pending:
            CLOSED.labels("body_after_response").inc()
        self.transport.close()

    def disarm(self) -> None:
        for timer in (self.head_timer, self.body_timer):
            if timer is not None:
                timer.cancel()
        self.head_timer = self.body_timer = None

    def refuse(self, status: int, message: str, reason: str, headers: bytes = b"") -> None:
        """Answer with the error envelope and close, whatever state the request is in."""
        CLOSED.labels(reason).inc()
        self.disarm()
        body = error_body(message)
        self.transport.write(
            STATUS_LINE[status]
            + b"".join(
                name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers
            )
            + b"content-type: application/json\r\n"
            + b"content-length: %d\r\n" % len(body)
            + headers
            + b"connection: close\r\n\r\n"
            + body
        )
        self.transport.close()


def configure(**overrides: float | None) -> Settings:
    """The settings `serve` runs with: the environment's, with the command line's over them. Those
    are written back to the environment, where the worker processes read their settings from.

    The soft limit on open files (commonly 1,024, which 1,100 idle connections exhausted) is raised
    as far as the hard limit allows for `max_connections` to fit; Go's runtime does the same. When
    they cannot fit, `max_connections` is lowered to what does, with a warning."""
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"INVOICING_{name.upper()}"] = str(value)
    get_settings.cache_clear()
    settings = get_settings()
    others = OTHER_FILES + settings.pool_size
    available = _raise_open_files_limit(settings.max_connections + others) - others
    if available < settings.max_connections:
        print(
            f"Warning: at most {available + others} open files are allowed (hard limit), so "
            f"max_connections is lowered from {settings.max_connections} to {available}.",
            file=sys.stderr,
        )
        os.environ["INVOICING_MAX_CONNECTIONS"] = str(max(available, 1))
        get_settings.cache_clear()
        settings = get_settings()
    return settings


def _raise_open_files_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards `wanted` (the hard limit permitting); the new
    soft limit. Child processes inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return wanted if soft == resource.RLIM_INFINITY else soft
