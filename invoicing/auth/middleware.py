"""The access token, checked before routing: an unknown route answers 401 without a token too."""

from typing import TYPE_CHECKING, cast

from starlette.types import ASGIApp, Receive, Scope, Send

from invoicing.core.errors import DATABASE_UNAVAILABLE, INVALID_TOKEN
from invoicing.db.base import Database, DatabaseUnavailable
from invoicing.tokens.service import authenticate
from invoicing.web.asgi import send_error
from invoicing.web.docs import PUBLIC_PATHS as DOCS_PATHS

if TYPE_CHECKING:  # by its dialect at run time: a server on SQLite never imports asyncpg
    from invoicing.db.postgres import PostgresDatabase

# Exact paths (a set lookup per request): the docs' pages and assets are listed by their module.
PUBLIC_PATHS = frozenset({"/health", "/metrics", "/openapi.json", *DOCS_PATHS})
# The console checks its own session (invoicing.console); a token is never looked for there, and
# its cookie is never looked for anywhere else.
CONSOLE_PREFIX = "/admin"
_BODYLESS = frozenset({"GET", "HEAD"})
_UNAUTHORIZED = [(b"www-authenticate", b"Bearer")]


def presented_secret(scope: Scope) -> str | None:
    """The token from `accessToken` or `Authorization: Bearer`; None when absent, or when both
    headers are sent and disagree (which of two credentials was meant cannot be guessed)."""
    access_token = authorization = None
    for key, value in scope["headers"]:  # one pass: this runs on every request
        if key == b"accesstoken":
            access_token = value.decode("latin-1").strip()
        elif key == b"authorization":
            authorization = value.decode("latin-1")
    bearer = None
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        bearer = credentials.strip() if scheme.lower() == "bearer" else ""
    if access_token is not None and bearer is not None and access_token != bearer:
        return None
    return access_token or bearer or None


class Authenticate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _public(scope["path"]):
            await self.app(scope, receive, send)
            return
        database: Database = scope["app"].state.database
        if database.dialect == "postgresql" and scope["method"] in _BODYLESS:
            # A request without a body shares one pooled connection between its token check and
            # its route's first database block (one pool round less, measured: a GET's p99
            # halves under load). A request with a body does not, so that a slow upload holds
            # none. (Elsewhere no `async with nullcontext()`, whose two coroutines were 4,200
            # of this middleware's 74,800 instructions a GET, callgrind.)
            async with cast("PostgresDatabase", database).lease(blocks=2):
                await self._admit(database, scope, receive, send)
        else:
            await self._admit(database, scope, receive, send)

    async def _admit(self, database: Database, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, for a request whose token is valid; 401 (or 503) otherwise."""
        secret = presented_secret(scope)
        principal = None
        if secret:
            try:
                principal = await authenticate(database, secret)
            except DatabaseUnavailable:
                await send_error(send, 503, DATABASE_UNAVAILABLE)
                return
        if principal is None:
            await send_error(send, 401, INVALID_TOKEN, _UNAUTHORIZED)
            return
        scope["principal"] = principal
        await self.app(scope, receive, send)


def _public(path: str) -> bool:
    return path in PUBLIC_PATHS or path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")
