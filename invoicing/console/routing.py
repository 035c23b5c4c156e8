"""What every console page shares: the signed-in session as a route dependency, and a route class
that turns the service's errors into pages (the JSON API's handlers answer JSON)."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from invoicing.console import sessions
from invoicing.console.render import page
from invoicing.console.sessions import COOKIE, Session
from invoicing.core.errors import AppError
from invoicing.db.base import DatabaseUnavailable

SIGN_IN = "/admin/sign-in"


class SignInRequired(Exception):
    pass


async def console_session(request: Request) -> Session:
    """The signed-in session, or a redirect to sign in. The token holder becomes the request's
    principal, as a token would on the API, so the services see the same caller."""
    signed = request.cookies.get(COOKIE)
    secret = request.app.state.console_signer.unsign(signed) if signed else None
    session = await sessions.find(request.app.state.database, secret) if secret else None
    if session is None:
        raise SignInRequired
    request.scope["principal"] = session.principal
    request.state.session = session
    return session


Console = Annotated[Session, Depends(console_session)]


class ConsoleRoute(APIRoute):
    """A page: a service error becomes an error page with the API's message and status, and a
    request without a session is sent to sign in (and back here afterwards)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                back = "" if request.method != "GET" else f"?next={quote(target, safe='')}"
                return RedirectResponse(SIGN_IN + back, status_code=303)
            except AppError as error:
                session = getattr(request.state, "session", None)
                return page(
                    request,
                    "error.html",
                    session,
                    status=error.status,
                    message=error.message,
                    details=error.errors or [],
                )
            except DatabaseUnavailable:
                session = getattr(request.state, "session", None)
                return page(
                    request,
                    "error.html",
                    session,
                    status=503,
                    message="The database is unavailable, please retry",
                )

        return handle


def console_router() -> APIRouter:
    return APIRouter(prefix="/admin", route_class=ConsoleRoute, include_in_schema=False)
