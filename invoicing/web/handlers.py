"""Every error rendered as the contract's envelope."""

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from invoicing.core.errors import DATABASE_UNAVAILABLE, METHOD_NOT_ALLOWED, NOT_FOUND, AppError
from invoicing.web.bodies import describe, field_name
from invoicing.web.responses import error_body, json_response


async def app_error(request: Request, error: AppError) -> Response:
    return json_response(error_body(error.message, error.errors), error.status, error.headers)


async def http_error(request: Request, error: HTTPException) -> Response:
    messages = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED}
    message = messages.get(error.status_code, str(error.detail))
    return json_response(error_body(message), error.status_code, error.headers)


async def validation_error(request: Request, error: RequestValidationError) -> Response:
    errors = []
    for detail in error.errors():
        # Drop FastAPI's "query"/"path" prefix: the field is what the client named.
        detail = {**detail, "loc": tuple(detail["loc"][1:]) or ("body",)}
        errors.append({"field": field_name(detail["loc"]), "message": describe(detail)})  # type: ignore[arg-type]
    first = errors[0]
    return json_response(
        error_body(f"Validation error: {first['field']} {first['message']}", errors), 400
    )


async def database_unavailable(request: Request, error: Exception) -> Response:
    return json_response(error_body(DATABASE_UNAVAILABLE), 503, {"Retry-After": "1"})
