"""The transport a connection's responses are written through: writes made in one turn of the
event loop leave in one `send()`.

uvicorn writes a response's head when the app starts it and its body when the app sends it, so
a small response took two `send()` calls; the reference pays them too. Held until the next write
or the loop's next turn, they take one (GET /invoices/{id} on SQLite under wrk -c32, 18
interleaved 4 s runs: ~5 µs less CPU a request, of ~95).

Every write and close of the connection goes through here (the protocol's and the request
cycle's alike), so bytes keep their order whatever runs first in the next turn, and a close sends
what is held before it.
"""

import asyncio
from typing import Any


class CoalescingTransport:
    __slots__ = ("held", "loop", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self.loop = loop
        # None: nothing held, no flush queued. b"": a flush is queued, and it has nothing to send.
        self.held: bytes | None = None

    def write(self, data: bytes) -> None:
        held = self.held
        if held is None:
            self.held = data
            self.loop.call_soon(self.flush)
        else:
            self.held = b""
            self.transport.write(held + data)

    def flush(self) -> None:
        held, self.held = self.held, None
        if held and not self.transport.is_closing():
            self.transport.write(held)

    def close(self) -> None:
        self.flush()  # (a flush still queued then finds nothing held and sends nothing)
        self.transport.close()

    def abort(self) -> None:
        self.held = None
        self.transport.abort()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, pause_reading, set_protocol, …
        return getattr(self.transport, name)
