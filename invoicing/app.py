"""The ASGI application."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi._body_limit import AppBodyLimitMiddleware
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp

from invoicing.auth.middleware import Authenticate
from invoicing.config import Settings, get_settings
from invoicing.console import sessions
from invoicing.console.pages import router as console
from invoicing.console.sessions import Signer
from invoicing.core import keys
from invoicing.core.errors import AppError
from invoicing.credit_notes.endpoints import router as credit_notes
from invoicing.db import create_database
from invoicing.db import housekeeping as housekeeping_loop
from invoicing.db.base import DatabaseUnavailable
from invoicing.documents.ahead import RenderAhead
from invoicing.documents.renderer import PdfRenderer
from invoicing.einvoice.endpoints import router as einvoices
from invoicing.invoices.endpoints import router as invoices
from invoicing.operations.endpoints import router as operations
from invoicing.orders.endpoints import router as orders
from invoicing.payments.endpoints import router as payments
from invoicing.seller.endpoints import router as seller
from invoicing.tokens.endpoints import router as tokens
from invoicing.web import fastpath, handlers, idempotency, logs, openapi
from invoicing.web.docs import router as docs
from invoicing.web.fastpath import FastPath
from invoicing.web.middleware import LimitBody, RequestContext
from invoicing.webhooks.endpoints import router as webhooks
from invoicing.webhooks.process import DeliveryProcess
from invoicing.webhooks.signing import SecretBox

# FastAPI's outermost layers, which did nothing here but cost every request (callgrind: 15,000
# instructions of a GET /invoices/{id}'s ~606,000): RequestContext, first in the app's own list,
# answers an unhandled error with the contract's 500 before ServerErrorMiddleware could; telemetry
# is off; and LimitBody limits bodies (FastAPI's `max_body_size` is unset).
_IDLE_LAYERS = (ServerErrorMiddleware, ExceptionTelemetryMiddleware, AppBodyLimitMiddleware)


class InvoicingAPI(FastAPI):
    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        while isinstance(app, _IDLE_LAYERS):
            app = app.app
        return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = create_database(
        settings.database_url, pool_size=settings.pool_size, timeout=settings.db_timeout
    )
    secret_key = keys.secret_key(settings)
    secret_box = SecretBox(secret_key)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        # The serve's render pool, shared by its server processes, starts on the first PDF.
        app.state.pdf_renderer = renderer = PdfRenderer.from_settings(settings)
        await database.connect()
        # Everything made at startup lives as long as the process: keep it out of the garbage
        # collector's full passes, whose pauses on a large heap show up in the latency tail.
        gc.collect()
        gc.freeze()
        housekeeping = (idempotency.expire_keys, sessions.expire)
        background = [asyncio.create_task(housekeeping_loop.run_forever(database, housekeeping))]
        # New invoices' and credit notes' documents, stored while the process is idle.
        if settings.render_ahead:
            app.state.render_ahead = ahead = RenderAhead(database, settings, renderer)
            background.append(asyncio.create_task(ahead.run()))
        # Webhooks go out from a child process at a lower CPU priority (invoicing.webhooks.worker).
        delivery = None
        if settings.webhook_dispatch:
            delivery = DeliveryProcess(settings)
            delivery.start()
        app.state.webhook_dispatcher = delivery
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if delivery is not None:
                await delivery.close()
            await renderer.close()
            await database.close()

    app = InvoicingAPI(
        title="Invoicing",
        version="0.1.0",
        description="Turns orders into correct, numbered invoices; renders and emails them.",
        lifespan=lifespan,
        # /docs and /redoc are served from assets shipped with the service (invoicing.web.docs).
        docs_url=None,
        redoc_url=None,
        openapi_tags=openapi.TAGS,
        # No redirect to the path without its slash: Starlette builds that URL from the Host
        # header, which a client controls. The path with a slash is simply not a route (404).
        redirect_slashes=False,
        # The service exports its own metrics (/metrics) and logs. FastAPI's OpenTelemetry hooks
        # would ask the global providers on every request whether one is configured (none can
        # be: no OpenTelemetry SDK is installed); ~5 µs of a ~150 µs GET /invoices/{id}.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if settings.smtp_url:
        from invoicing.mail.delivery import parse_smtp_url  # smtplib: loaded when mail is set

        parse_smtp_url(settings.smtp_url)  # a malformed URL stops the start, not the first send
    app.state.settings = settings
    app.state.database = database
    app.state.secret_box = secret_box
    app.state.console_signer = Signer(secret_key)
    app.state.webhook_dispatcher = None
    app.state.render_ahead = None
    routers = (
        orders,
        invoices,
        payments,
        credit_notes,
        einvoices,
        seller,
        tokens,
        webhooks,
        operations,
        console,
        docs,
    )
    for router in routers:
        app.include_router(router)
    # Every route in FastAPI's matching order: the app's own (OpenAPI), then each router's.
    routes = [*app.router.routes, *(route for router in routers for route in router.routes)]

    app.add_exception_handler(AppError, handlers.app_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, handlers.http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, handlers.validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(DatabaseUnavailable, handlers.database_unavailable)

    app.user_middleware = middleware_stack(
        settings, fastpath.build_table(routes) if settings.fast_path else []
    )
    openapi.install(app)
    return app


def middleware_stack(settings: Settings, hot_routes: fastpath.Table) -> list[Middleware]:
    """Outermost first: every request is logged and counted; a browser's CORS preflight is
    answered before authentication (it carries no token); then the token, the body limits, and
    the hot routes' direct dispatch in front of FastAPI's router."""
    cors = []
    if settings.cors_origins:
        cors = [
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["*"],
                allow_headers=["*"],
            )
        ]
    return [
        Middleware(RequestContext),
        *cors,
        Middleware(Authenticate),
        Middleware(LimitBody),
        Middleware(FastPath, table=hot_routes),
    ]
