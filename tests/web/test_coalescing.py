"""A connection's writes in one loop turn leave in one send (invoicing.web.coalescing), in order,
and nothing held is lost when the connection closes. The protocol tests drive `invoicing serve`'s
own HttpProtocol over a transport that records what it is given."""

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from invoicing.web.coalescing import CoalescingTransport
from invoicing.web.server import HttpProtocol


def in_loop(test: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """The async test run in an event loop of its own (the suite has no async test plugin)."""

    def run() -> None:
        asyncio.run(test())

    run.__name__ = test.__name__
    return run


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    @property
    def writes(self) -> list[bytes]:
        return [data for call, data in self.calls if call == "write"]


async def _next_turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


@in_loop
async def test_writes_of_one_turn_leave_in_one_write_in_order() -> None:
    raw = Recording()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())
    transport.write(b"head ")
    transport.write(b"body ")
    transport.write(b"more")
    await _next_turns()
    assert b"".join(raw.writes) == b"head body more"
    assert raw.writes[0] == b"head body "


@in_loop
async def test_a_lone_write_leaves_on_the_next_turn() -> None:
    raw = Recording()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())
    transport.write(b"only")
    assert raw.writes == []
    await _next_turns()
    assert raw.writes == [b"only"]


@in_loop
async def test_a_close_sends_what_is_held_first_and_nothing_after() -> None:
    raw = Recording()
    transport = CoalescingTransport(raw, asyncio.get_running_loop())
    transport.write(b"last words")
    transport.close()
    transport.write(b"too late")
    await _next_turns()
    assert raw.calls == [("write", b"last words"), ("close", b"")]


async def _serve(request: bytes, app: Any) -> Recording:
    config = Config(app=app, lifespan="off", access_log=False)
    config.load()
    raw = Recording()
    protocol = HttpProtocol(config, ServerState(), {}, asyncio.get_running_loop())
    protocol.connection_made(raw)
    protocol.data_received(request)
    await asyncio.sleep(0.05)
    protocol.connection_lost(None)
    return raw


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    body = b"" if scope["method"] == "HEAD" else b'{"hello": "world"}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"18")],
        }
    )
    await send({"type": "http.response.body", "body": body})


@in_loop
async def test_a_response_leaves_in_one_write() -> None:
    raw = await _serve(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", _hello)
    assert len(raw.writes) == 1
    head, _, body = raw.writes[0].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"content-length: 18" in head
    assert body == b'{"hello": "world"}'


@in_loop
async def test_a_head_response_with_connection_close_is_sent_before_the_close() -> None:
    raw = await _serve(b"HEAD / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n", _hello)
    calls = [call for call, _ in raw.calls]
    assert calls[0] == "write" and set(calls[1:]) == {"close"}  # (closing twice is harmless)
    assert raw.writes[0].startswith(b"HTTP/1.1 200 OK") and raw.writes[0].endswith(b"\r\n\r\n")


@in_loop
async def test_pipelined_responses_keep_their_order() -> None:
    async def echo_path(scope: Scope, receive: Receive, send: Send) -> None:
        body = scope["path"].encode()
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    raw = await _serve(
        b"GET /first HTTP/1.1\r\nhost: x\r\n\r\nGET /second HTTP/1.1\r\nhost: x\r\n\r\n", echo_path
    )
    sent = b"".join(raw.writes)
    assert sent.count(b"HTTP/1.1 200 OK") == 2
    assert sent.index(b"/first") < sent.index(b"/second")
