"""A fast webhook receiver for the bench (bench/webhooks.py), run in a process of its own so that
its CPU time is neither the service's nor wrk's: every POST is answered `204` at once and counted
(with its distinct `webhook-id`s); `GET /count` answers `{"received": n, "unique": m}`. HTTP/1.1
with keep-alive, bodies by Content-Length (what the service's sender uses), nothing else.

    python -m bench.receiver --port 8099
"""

import argparse
import asyncio
import json
from typing import cast

NO_CONTENT = b"HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n"


class Counts:
    received = 0
    ids: set[bytes] = set()  # one receiver per process


class Receiver(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.WriteTransport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.WriteTransport, transport)  # (uvloop's is no subclass)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = self.buffer[:end].split(b"\r\n")
            length, event_id = 0, b""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    event_id = value.strip()
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            if lines[0].startswith(b"POST "):
                Counts.received += 1
                Counts.ids.add(event_id)
                self.transport.write(NO_CONTENT)
            else:
                body = json.dumps({"received": Counts.received, "unique": len(Counts.ids)})
                self.transport.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode())
                )

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receiver", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


if __name__ == "__main__":
    main()
