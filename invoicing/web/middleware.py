"""Pure ASGI middleware every request goes through: its log line, metrics and clean 500, and
the body limits. (The access token is checked by `invoicing.auth.middleware`.)"""

import asyncio
import os
import re
import time
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.requests import ClientDisconnect
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
# Not a real HTTP status (nginx's): the client went away before its request was complete.
CLIENT_CLOSED_REQUEST = 499
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContext:
    """Request id, security headers, one JSON log line and metrics per request, and a clean 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.access_log = logs.AccessLog()
        self.routes: RouteTemplates | None = None

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
        except ClientDisconnect:
            status = CLIENT_CLOSED_REQUEST  # nothing to answer, and not the server's fault
        except Exception:
            route_name = getattr(scope.get("route"), "name", "")
            logs.errors.exception("unhandled error", extra={"fields": {"request_id": request_id}})
            if not response_started:
                status = 500
                await send_error(send, 500, UNEXPECTED_BY_ROUTE.get(route_name, UNEXPECTED), extra)
        finally:
            duration = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None)
            if route is None and not 200 <= status < 300:
                # Answered before routing (the token check's 401, the body limit's 413).
                if self.routes is None:
                    self.routes = RouteTemplates(scope["app"])
                route = self.routes.match(scope)
            metrics.observe(scope["method"], route or "unmatched", status, duration)
            self.access_log.write(request_id, scope["method"], scope["path"], status, duration)


class RouteTemplates:
    """The route template a request's path matches, as routing would choose it: the first route
    with the path and the method, else the first with the path (routing then answers 405)."""

    def __init__(self, app: Any) -> None:
        self.routes = [
            (context.path_regex, context.methods, context.path)
            for context in iter_route_contexts(app.routes)
            if getattr(context, "path_regex", None) is not None
        ]

    def match(self, scope: Scope) -> str | None:
        path, method = scope["path"], scope["method"]
        other_method = None
        for regex, methods, template in self.routes:
            if regex.match(path):
                if methods is None or method in methods:
                    return str(template)
                other_method = other_method or str(template)
        return other_method


class LimitBody:
    """Bodies over 1 MiB get 413; a body not all received `timeout` seconds after the app first
    asks for it gets 408 (in total, not per chunk: a trickle of a byte every few seconds would
    never trip a per-chunk timeout). The timeout is the settings' `body_timeout` unless given."""

    def __init__(self, app: ASGIApp, timeout: float | None = None) -> None:
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
        deadline: float | None = None
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, deadline, complete
            if complete:  # later calls wait for the client to disconnect: no deadline
                return await receive()
            if deadline is None:
                # Looked up here, not per request: most requests never read a body (GET), and
                # for them this lookup was a third of this middleware (16,700 -> 11,100
                # instructions a GET, callgrind).
                timeout = self.timeout or scope["app"].state.settings.body_timeout
                deadline = asyncio.get_running_loop().time() + timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(BODY_TIMEOUT) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    raise PayloadTooLarge(BODY_TOO_LARGE)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)
