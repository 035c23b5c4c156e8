"""Pure ASGI middleware every request goes through: its log line, metrics and clean 500, and
the body limits. (The access token is checked by `invoicing.auth.middleware`.)"""

import asyncio
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from invoicing.core.errors import (
    BODY_TIMEOUT,
    BODY_TOO_LARGE,
    UNEXPECTED,
    UNEXPECTED_BY_ROUTE,
    PayloadTooLarge,
    RequestTimeout,
)
from invoicing.web import logs, metrics
from invoicing.web.asgi import header, send_error

MAX_BODY = 1024 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContext:
    """Request id, security headers, one JSON log line and metrics per request, and a clean 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.access_log = logs.AccessLog()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = header(scope, b"x-request-id")
        if incoming and _REQUEST_ID.fullmatch(incoming):
            request_id = incoming
        else:
            request_id = os.urandom(16).hex()
        status = 500
        response_started = False
        extra = [(b"x-request-id", request_id.encode()), (b"x-content-type-options", b"nosniff")]

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            route_name = getattr(scope.get("route"), "name", "")
            logs.errors.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            if not response_started:
                status = 500
                await send_error(send, 500, UNEXPECTED_BY_ROUTE.get(route_name, UNEXPECTED), extra)
        finally:
            duration = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.observe(scope["method"], route, status, duration)
            self.access_log.write(
                {
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                }
            )


class LimitBody:
    """Bodies over 1 MiB get 413; a body that stalls for `timeout` seconds gets 408."""

    def __init__(self, app: ASGIApp, timeout: float = 30.0) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await send_error(send, 413, BODY_TOO_LARGE)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise RequestTimeout(BODY_TIMEOUT) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    raise PayloadTooLarge(BODY_TOO_LARGE)
            return message

        await self.app(scope, limited_receive, send)
