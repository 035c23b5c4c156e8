"""The busiest routes, served without FastAPI's per-request routing scan and dependency solving.

They call the very endpoint functions FastAPI registered (so the OpenAPI schema is FastAPI's own),
with the same error envelopes; only the dispatch differs. Measured (bench/PROFILE.md), FastAPI's
routing, dependency solving and per-route wrappers were about a quarter of the CPU of a
`GET /invoices/{id}`.

The table is built once, when the app is made, and refuses any route it could not serve exactly
as FastAPI would: one with dependencies or parameters beyond the request and its path, a path
converter, or a path that an earlier route of the same method could also match.
"""

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from invoicing.core.errors import AppError
from invoicing.db.base import DatabaseUnavailable
from invoicing.web.handlers import app_error, database_unavailable

Endpoint = Callable[..., Awaitable[Response]]
E = TypeVar("E", bound=Endpoint)
_HOT = "__invoicing_hot_route__"


def hot(endpoint: E) -> E:
    """Mark an endpoint for direct dispatch (`FastPath` checks that it qualifies)."""
    setattr(endpoint, _HOT, True)
    return endpoint


class UnfitRoute(Exception):
    """A route marked hot that the fast path could not serve exactly as FastAPI does."""


Table = list[tuple[str, re.Pattern[str], APIRoute]]


def build_table(routes: Sequence[BaseRoute]) -> Table:
    """The hot routes among `routes`: every route of the app, in FastAPI's matching order."""
    every = [route for route in routes if isinstance(route, Route)]
    table: Table = []
    for position, route in enumerate(every):
        if not isinstance(route, APIRoute) or not getattr(route.endpoint, _HOT, False):
            continue
        _check_fit(route)
        for earlier in every[:position]:
            if (earlier.methods or set()) & (route.methods or set()) and _overlap(
                earlier.path, route.path
            ):
                raise UnfitRoute(
                    f"{route.path} ({route.name}) is hot, but the earlier route {earlier.path} "
                    "can match the same requests: FastAPI would choose that one"
                )
        table.extend((method, route.path_regex, route) for method in sorted(route.methods or ()))
    return table


def _check_fit(route: APIRoute) -> None:
    dependant = route.dependant
    if ":" in route.path:
        raise UnfitRoute(f"{route.path} ({route.name}) uses a path converter")
    if (
        dependant.dependencies
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
    ):
        raise UnfitRoute(
            f"{route.path} ({route.name}) has dependencies or parameters beyond its path"
        )
    if route.dependencies:
        raise UnfitRoute(f"{route.path} ({route.name}) has route dependencies")
    if dependant.request_param_name is None:
        raise UnfitRoute(f"{route.path} ({route.name}) must take the Request")


def _segments(path: str) -> list[str | None]:
    """A path's segments, None for a parameter."""
    return [None if part.startswith("{") else part for part in path.strip("/").split("/")]


def _overlap(a: str, b: str) -> bool:
    first, second = _segments(a), _segments(b)
    return len(first) == len(second) and all(
        x is None or y is None or x == y for x, y in zip(first, second, strict=True)
    )


class FastPath:
    def __init__(self, app: ASGIApp, table: Table) -> None:
        self.app = app
        self.table = table
        # The table's routes by method, in its order: one dict lookup instead of a scan past the
        # other methods' routes.
        self.by_method: dict[str, list[tuple[re.Pattern[str], APIRoute]]] = {}
        for method, pattern, route in table:
            self.by_method.setdefault(method, []).append((pattern, route))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for pattern, route in self.by_method.get(scope["method"], ()):
                if (match := pattern.match(path)) is not None:
                    scope["route"] = route
                    scope["path_params"] = params = match.groupdict()
                    request = Request(scope, receive, send)
                    # The handlers FastAPI's exception middleware would call, here rather than
                    # in a coroutine of their own (one frame less per request).
                    try:
                        response = await route.endpoint(request, **params)
                    except AppError as error:
                        response = await app_error(request, error)
                    except DatabaseUnavailable as error:
                        response = await database_unavailable(request, error)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
