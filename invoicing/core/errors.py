"""One error family; one handler renders each as the contract's envelope."""

from typing import Any


class AppError(Exception):
    status = 500

    def __init__(
        self,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        retry_after: int | None = None,
    ) -> None:
        """`retry_after`: seconds after which the same request may succeed (`Retry-After`)."""
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = None if retry_after is None else {"Retry-After": str(max(1, retry_after))}


class ValidationFailed(AppError):
    status = 400

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"Validation error: {message}", errors=errors)

    @classmethod
    def on(cls, field: str, message: str) -> "ValidationFailed":
        """`Validation error: <field> <message>`, with the field in `errors`."""
        return cls(f"{field} {message}", errors=[{"field": field, "message": message}])


class RequestTimeout(AppError):
    status = 408


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class Unprocessable(AppError):
    status = 422


class PayloadTooLarge(AppError):
    status = 413


class UnsupportedMediaType(AppError):
    status = 415


class TooManyRequests(AppError):
    status = 429


class BadGateway(AppError):
    status = 502


class ServiceUnavailable(AppError):
    status = 503


class GatewayTimeout(AppError):
    status = 504


INVALID_TOKEN = "Invalid or missing access token"
ADMIN_REQUIRED = "This action requires an admin access token"
BODY_TOO_LARGE = "Request body too large"
NOT_JSON = "Content-Type must be application/json"
DATABASE_UNAVAILABLE = "The database is unavailable, please retry"
BODY_TIMEOUT = "Request body was not received in time"
NOT_FOUND = "Not found"
METHOD_NOT_ALLOWED = "Method not allowed"
UNEXPECTED = "An unexpected error occurred"
# The contract names the 500 message of its two original endpoints (create and get an invoice).
UNEXPECTED_BY_ROUTE = {
    "create_invoice": "An error occurred while creating the invoice",
    "get_invoice": "An error occurred while fetching the invoice",
}
# Answered by the server's protocol (invoicing.web.server), before the app sees the request.
HEADERS_TIMEOUT = "Request headers were not received in time"
HEADERS_TOO_LARGE = "Request headers too large"
TOO_MANY_CONNECTIONS = "Too many connections, please retry"
# PDF rendering and invoice mail (invoicing.documents, invoicing.invoices.delivery).
TOO_MANY_REQUESTS = "Too many requests"
RENDERER_BUSY = "The document renderer is busy, please retry"
RENDERER_FAILED = "The document renderer failed, please retry"
RENDER_TIMED_OUT = "The document took too long to render"
