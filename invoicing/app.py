"""The ASGI application."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from invoicing import handlers, idempotency, logs, openapi
from invoicing.config import Settings, get_settings
from invoicing.db.database import DatabaseUnavailable, create_database
from invoicing.documents.renderer import PdfRenderer
from invoicing.errors import AppError
from invoicing.fastpath import FastPath
from invoicing.invoices.endpoints import router as invoices
from invoicing.mail.delivery import parse_smtp_url
from invoicing.middleware import Authenticate, LimitBody, RequestContext
from invoicing.operations import router as operations
from invoicing.orders.endpoints import router as orders
from invoicing.tokens.endpoints import router as tokens

HOT_ROUTES = frozenset({"get_invoice", "create_invoice", "get_order", "create_order"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = create_database(
        settings.database_url, pool_size=settings.pool_size, timeout=settings.db_timeout
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        app.state.pdf_renderer = renderer = PdfRenderer()
        renderer.start()
        await database.connect()
        # Everything made at startup lives as long as the process: keep it out of the garbage
        # collector's full passes, whose pauses on a large heap show up in the latency tail.
        gc.collect()
        gc.freeze()
        expiry = asyncio.create_task(idempotency.expire_keys_forever(database))
        try:
            yield
        finally:
            expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await expiry
            renderer.close()
            await database.close()

    app = FastAPI(
        title="Invoicing",
        version="0.1.0",
        description="Turns orders into correct, numbered invoices; renders and emails them.",
        lifespan=lifespan,
        redoc_url=None,
    )
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # a malformed URL stops the start, not the first send
    app.state.settings = settings
    app.state.database = database
    for router in (orders, invoices, tokens, operations):
        app.include_router(router)

    app.add_exception_handler(AppError, handlers.app_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, handlers.http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, handlers.validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(DatabaseUnavailable, handlers.database_unavailable)

    # Added innermost first: RequestContext wraps everything, then auth, then the body limits,
    # then the hot routes' direct dispatch.
    app.add_middleware(FastPath, routes=app.routes, names=HOT_ROUTES)
    app.add_middleware(LimitBody)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(Authenticate)
    app.add_middleware(RequestContext)
    openapi.install(app)
    return app
