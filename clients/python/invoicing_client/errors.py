"""One exception family for everything the client raises.

    InvoicingError                  status, message, errors (field errors), request_id
    ├── APIError                    the service answered with an error status
    │   ├── ValidationError         400, with the field errors
    │   ├── AuthenticationError     401: no, unknown or revoked token
    │   ├── PermissionDenied        403: an api token on an admin route
    │   ├── NotFound                404
    │   ├── Conflict                409: fully invoiced, nothing left to pay, key reused...
    │   ├── PayloadTooLarge         413
    │   ├── UnsupportedMediaType    415
    │   ├── UnprocessableEntity     422: an e-invoice lacks data EN 16931 requires
    │   ├── RateLimited             429, with retry_after (seconds)
    │   └── ServerError             5xx
    ├── NetworkError                no answer (after the retries): connection refused or lost
    │   └── Timeout                 no answer in time
    └── WebhookVerificationError    a webhook whose signature does not verify
"""

from __future__ import annotations

from collections.abc import Sequence

from invoicing_client.models import FieldError

__all__ = [
    "APIError",
    "AuthenticationError",
    "Conflict",
    "InvoicingError",
    "NetworkError",
    "NotFound",
    "PayloadTooLarge",
    "PermissionDenied",
    "RateLimited",
    "ServerError",
    "Timeout",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "ValidationError",
    "WebhookVerificationError",
]


class InvoicingError(Exception):
    """Base of every error this client raises.

    `status`: the HTTP status (None when there was no answer), `message`: the service's own
    message, `errors`: its field errors (`[FieldError(field="lineItems[0].quantity",
    message="must be greater than 0")]`, empty when it gave none), `request_id`: the response's
    `X-Request-ID`, which the service's logs carry too."""

    status: int | None
    message: str
    errors: list[FieldError]
    request_id: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: Sequence[FieldError] = (),
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = list(errors)
        self.request_id = request_id

    def __str__(self) -> str:
        text = self.message if self.status is None else f"{self.status}: {self.message}"
        if self.errors:
            text += " (" + "; ".join(f"{e.field}: {e.message}" for e in self.errors) + ")"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class APIError(InvoicingError):
    """The service answered with an error status (one of the subclasses when it is known)."""

    status: int


class ValidationError(APIError):
    """400: the request is not valid; `errors` names each field and what is wrong with it."""


class AuthenticationError(APIError):
    """401: no token, or an unknown or revoked one."""


class PermissionDenied(APIError):
    """403: the token may not do this (an api token on an admin route)."""


class NotFound(APIError):
    """404: no such resource (a malformed id is answered the same)."""


class Conflict(APIError):
    """409: the state forbids it (order fully invoiced, nothing left to pay or credit, an
    Idempotency-Key already used with another body); `errors` may say more."""


class PayloadTooLarge(APIError):
    """413: the request body is over 1 MiB."""


class UnsupportedMediaType(APIError):
    """415: the body was not sent as JSON (this client always sends JSON)."""


class UnprocessableEntity(APIError):
    """422: the document lacks data an e-invoice requires; `errors` names each field."""


class RateLimited(APIError):
    """429: too many renders or sends; `retry_after`: seconds to wait (None if not given)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 429,
        errors: Sequence[FieldError] = (),
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, errors=errors, request_id=request_id)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the service failed (500), or a gateway or the service was unavailable (502, 503,
    504) and stayed so through the retries."""


class NetworkError(InvoicingError):
    """No answer: the connection could not be made or was lost (after the retries allowed).
    `__cause__` is the underlying httpx exception."""


class Timeout(NetworkError):
    """No answer within the timeout (after the retries allowed)."""


class WebhookVerificationError(InvoicingError):
    """A webhook request whose signature does not verify with the secret (altered, not from the
    service, or older than 5 minutes), or whose headers are missing or malformed."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: UnprocessableEntity,
    429: RateLimited,
}


def error_class(status: int) -> type[APIError]:
    """The exception class for an error status: its own, ServerError for 5xx, else APIError."""
    known = _BY_STATUS.get(status)
    if known is not None:
        return known
    return ServerError if status >= 500 else APIError
