"""Work only worth finishing while the client still waits for its answer."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from starlette.requests import ClientDisconnect, Request
from starlette.types import Receive

from invoicing.core.errors import RequestTimeout

T = TypeVar("T")


async def while_connected(request: Request, work: Coroutine[Any, Any, T]) -> T:
    """`await work`, unless the client disconnects first: then `work` is cancelled and
    Starlette's ClientDisconnect raised (logged and counted as 499). Only for requests whose
    body has been read (or that have none)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request.receive))
    try:
        await asyncio.wait((task, watcher), return_when=asyncio.FIRST_COMPLETED)
    finally:
        finished = task.done()
        task.cancel()
        watcher.cancel()
        await asyncio.gather(task, watcher, return_exceptions=True)
    if not finished:
        watcher.result()  # an unexpected error from receive() is raised as itself
        raise ClientDisconnect
    return task.result()


async def _disconnected(receive: Receive) -> None:
    while True:
        try:
            message = await receive()
        except RequestTimeout:
            # LimitBody gives each receive() a time limit meant for a stalled body; here no
            # body is due, so the wait simply goes on.
            continue
        if message["type"] == "http.disconnect":
            return
