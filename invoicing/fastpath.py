"""The busiest routes, served without FastAPI's per-request routing scan and dependency solving.

They call the very endpoint functions FastAPI registered (so the OpenAPI schema is FastAPI's own),
with the same error envelopes; only the dispatch differs. Measured (bench/PROFILE.md), FastAPI's
routing, dependency solving and per-route wrappers were about a quarter of the CPU of a
`GET /invoices/{id}`.
"""

import re
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from invoicing.db.database import DatabaseUnavailable
from invoicing.errors import AppError
from invoicing.handlers import app_error, database_unavailable

Endpoint = Callable[..., Awaitable[Response]]


class FastPath:
    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], names: Collection[str]) -> None:
        self.app = app
        self._all_routes = routes
        self._names = names
        self._table: list[tuple[str, re.Pattern[str], APIRoute]] | None = None

    def _build(self) -> list[tuple[str, re.Pattern[str], APIRoute]]:
        table = []
        for route in self._all_routes:
            if isinstance(route, APIRoute) and route.name in self._names:
                table += [(method, route.path_regex, route) for method in route.methods or ()]
        return table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._table is None:
                self._table = self._build()
            method, path = scope["method"], scope["path"]
            for route_method, pattern, route in self._table:
                if route_method == method and (match := pattern.match(path)) is not None:
                    scope["route"] = route
                    scope["path_params"] = params = match.groupdict()
                    response = await _call(route.endpoint, Request(scope, receive, send), params)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


async def _call(endpoint: Endpoint, request: Request, params: dict[str, Any]) -> Response:
    try:
        return await endpoint(request, **params)
    except AppError as error:
        return await app_error(request, error)
    except DatabaseUnavailable as error:
        return await database_unavailable(request, error)
