"""The busiest routes, served without FastAPI's per-request routing scan and dependency solving.

They call the very endpoint functions FastAPI registered (so the OpenAPI schema is FastAPI's own),
with the same error envelopes; only the dispatch differs. Measured (bench/PROFILE.md), FastAPI's
routing, dependency solving and per-route wrappers were about a quarter of the CPU of a
`GET /invoices/{id}`.
"""

import re
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
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
        """`routes` is the app's own list, read at the first request, when it is complete."""
        self.app = app
        self._all_routes = routes
        self._names = names
        self._table: list[tuple[str, re.Pattern[str], APIRoute]] | None = None

    def _build(self) -> list[tuple[str, re.Pattern[str], APIRoute]]:
        return [
            (method, route.path_regex, route)
            for route in api_routes(self._all_routes)
            if route.name in self._names
            for method in route.methods or ()
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._table is None:
                self._table = self._build()
                missing = set(self._names) - {route.name for _, _, route in self._table}
                if missing:
                    raise RuntimeError(f"hot routes not found: {sorted(missing)}")
            method, path = scope["method"], scope["path"]
            for route_method, pattern, route in self._table:
                if route_method == method and (match := pattern.match(path)) is not None:
                    scope["route"] = route
                    scope["path_params"] = params = match.groupdict()
                    response = await _call(route.endpoint, Request(scope, receive, send), params)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (which FastAPI keeps as entries of their
    own); routers included under an extra prefix are left to FastAPI."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        router = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        if router is not None and getattr(context, "prefix", "") == "":
            yield from api_routes(router.routes)


async def _call(endpoint: Endpoint, request: Request, params: dict[str, Any]) -> Response:
    try:
        return await endpoint(request, **params)
    except AppError as error:
        return await app_error(request, error)
    except DatabaseUnavailable as error:
        return await database_unavailable(request, error)
