"""The ASGI application."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from invoicing import logs, openapi
from invoicing.config import Settings, get_settings
from invoicing.db.database import DatabaseUnavailable, create_database
from invoicing.errors import (
    DATABASE_UNAVAILABLE,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    AppError,
)
from invoicing.http import describe, error_body, field_name, json_bytes
from invoicing.invoices.endpoints import router as invoices
from invoicing.mail.delivery import parse_smtp_url
from invoicing.middleware import Authenticate, LimitBody, RequestContext
from invoicing.operations import router as operations
from invoicing.orders.endpoints import router as orders
from invoicing.tokens.endpoints import router as tokens


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = create_database(
        settings.database_url, pool_size=settings.pool_size, timeout=settings.db_timeout
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logs.configure(settings.log_level)
        app.state.pdf_slots = asyncio.Semaphore(2)
        await database.connect()
        try:
            yield
        finally:
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

    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(DatabaseUnavailable, _database_unavailable)

    # Added innermost first: RequestContext wraps everything, then auth, then the body limits.
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


async def _app_error(request: Request, error: AppError) -> Response:
    return json_bytes(error_body(error.message, error.errors), error.status)


async def _http_error(request: Request, error: HTTPException) -> Response:
    messages = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}
    message = messages.get(error.status_code, str(error.detail))
    return json_bytes(error_body(message), error.status_code, error.headers)


async def _validation_error(request: Request, error: RequestValidationError) -> Response:
    errors = []
    for detail in error.errors():
        # Drop FastAPI's "query"/"path" prefix: the field is what the client named.
        detail = {**detail, "loc": tuple(detail["loc"][1:]) or ("body",)}
        errors.append({"field": field_name(detail["loc"]), "message": describe(detail)})  # type: ignore[arg-type]
    first = errors[0]
    return json_bytes(
        error_body(f"Validation error: {first['field']} {first['message']}", errors), 400
    )


async def _database_unavailable(request: Request, error: Exception) -> Response:
    return json_bytes(error_body(DATABASE_UNAVAILABLE), 503, {"Retry-After": "1"})
