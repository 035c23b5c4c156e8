"""Everything the sync and the async client share, none of it doing I/O: building requests
(bodies with exact numbers, idempotency keys), the retry policy, and turning responses into
models or exceptions. `_async_client.py` does the I/O over it; `_sync_client.py` is generated
from that file (see scripts/generate_sync.py)."""

from __future__ import annotations

import enum
import json
import math
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from invoicing_client import errors
from invoicing_client.models import FieldError, camel

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "Request", "RetryPolicy", "Safety"]

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 2


class Safety(enum.Enum):
    """What a request may be retried after.

    `IDEMPOTENT`: reads, whole replacements (PUT /seller, PATCH metaFields), revocations, and the
    creates the service dedupes by `Idempotency-Key` (orders, invoices, payments, credit notes):
    retried after any network error (connect, read, write, timeout, a connection dropped before
    the answer) and after 429, 502, 503 and 504.

    `ONCE`: actions the service does not dedupe (send an email, ping, rotate a secret, create a
    webhook endpoint or a token, retry a delivery): doing them twice is not the same as once, so
    they are retried only when the request surely did not reach the service: the connection
    could not be made (or no pooled connection became free). A read timeout or a dropped
    connection, where the action may have happened, raises at once; so does any status."""

    IDEMPOTENT = "idempotent"
    ONCE = "once"


RETRY_STATUSES = frozenset({429, 502, 503, 504})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# A URL or a request httpx cannot send at all: retrying changes nothing.
_HOPELESS = (httpx.UnsupportedProtocol, httpx.LocalProtocolError)


@dataclass(frozen=True, slots=True)
class Request:
    """One logical call: sent as it is on every attempt (the same body bytes and the same
    Idempotency-Key, generated once when the call was made)."""

    method: str
    path: str
    params: Mapping[str, str | int] | None = None
    content: bytes | None = None
    safety: Safety = Safety.IDEMPOTENT
    headers: Mapping[str, str] = field(default_factory=dict)


def get(path: str, params: Mapping[str, Any] | None = None) -> Request:
    return Request("GET", path, query(params) if params else None)


def create(path: str, body: Mapping[str, Any], idempotency_key: str | None) -> Request:
    """A POST that creates, deduped by the service through its `Idempotency-Key`: one key per
    logical call (the caller's, or a new random one), reused by every retry of it."""
    key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
    return Request(
        "POST", path, content=encode(body), headers={**_JSON, "Idempotency-Key": key}
    )


def action(method: str, path: str, body: Mapping[str, Any] | None = None) -> Request:
    """A request that is not safe to repeat (see `Safety.ONCE`)."""
    return Request(
        method,
        path,
        content=None if body is None else encode(body),
        safety=Safety.ONCE,
        headers=_JSON if body is not None else {},
    )


def replace(method: str, path: str, body: Mapping[str, Any] | None = None) -> Request:
    """A request whose repetition changes nothing more (PUT, PATCH of given values, DELETE)."""
    return Request(
        method,
        path,
        content=None if body is None else encode(body),
        headers=_JSON if body is not None else {},
    )


_JSON = {"Content-Type": "application/json"}


def path_id(value: str) -> str:
    """An id placed in a path, escaped so that a caller's `../` or `?` cannot reach elsewhere."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"an id must be a non-empty string, not {value!r}")
    if value.isascii() and value.isalnum():
        return value
    return quote(value, safe="").replace(".", "%2E")


# Bodies -----------------------------------------------------------------------------------


def body(**fields: Any) -> dict[str, Any]:
    """A request body from keyword arguments: None left out (the service's default applies),
    `meta_fields` as a mapping made the service's list of `{key, value}`."""
    out = {name: value for name, value in fields.items() if value is not None}
    meta = out.get("meta_fields")
    if isinstance(meta, Mapping):
        out["meta_fields"] = [{"key": key, "value": value} for key, value in meta.items()]
    return out


def encode(value: Any) -> bytes:
    """JSON with every dict key in camelCase and every number with exactly its digits: a
    `Decimal` is written as a JSON number from its own digits (`Decimal("19.99")` -> `19.99`),
    never through a binary float. (json.dumps cannot do that: it writes float subclasses with
    float's repr.)"""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts).encode()


_string = json.encoder.encode_basestring_ascii
_CAMEL: dict[str, str] = {}


def _key(name: str) -> str:
    converted = _CAMEL.get(name)
    if converted is None:
        converted = _CAMEL[name] = camel(name)
    return converted


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be sent: JSON has no such number")
        out.append(format(value, "f"))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} cannot be sent: JSON has no such number")
        out.append(float.__repr__(value))  # the shortest text that reads back as this float
    elif isinstance(value, date):  # datetime included
        out.append(_string(value.isoformat()))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (name, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_string(_key(name)))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, BaseModel):
        _write(value.model_dump(by_alias=True, exclude_none=True), out)
    else:
        raise TypeError(f"cannot send a {type(value).__name__} as JSON")


def query(params: Mapping[str, Any]) -> dict[str, str | int]:
    """Query parameters: None left out, booleans as true/false, names in camelCase unless the
    service spells them otherwise (`include_revoked`)."""
    out: dict[str, str | int] = {}
    for name, value in params.items():
        if value is None:
            continue
        key = name if name in _SNAKE_QUERY else _key(name)
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


_SNAKE_QUERY = frozenset({"include_revoked"})


# Responses --------------------------------------------------------------------------------


def decode(response: httpx.Response) -> Any:
    """The response's JSON, every number with a fraction or exponent read as a `Decimal` from
    its own digits (`713.64` -> `Decimal("713.64")`, never a float's expansion)."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise errors.APIError(
            f"The service answered {response.status_code} with a body that is not JSON",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from None


def data(response: httpx.Response, model: type[M]) -> M:
    """The envelope's `data` as `model`."""
    return model.model_validate(decode(response)["data"])


def data_list(response: httpx.Response, model: type[M]) -> list[M]:
    validate = model.model_validate
    return [validate(item) for item in decode(response)["data"]]


def page(response: httpx.Response, model: type[M]) -> tuple[list[M], str | None]:
    """One page of a list: its items and the `nextCursor` (None on the last page)."""
    payload = decode(response)
    validate = model.model_validate
    return [validate(item) for item in payload["data"]], payload.get("nextCursor")


def error(response: httpx.Response) -> errors.APIError:
    """The exception for an error response, with the service's message and field errors."""
    status = response.status_code
    message = response.reason_phrase or f"HTTP {status}"
    field_errors: list[FieldError] = []
    try:
        payload = json.loads(response.content)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        if isinstance(payload.get("message"), str):
            message = payload["message"]
        for item in payload.get("errors") or ():
            if isinstance(item, dict):
                field, text = str(item.get("field", "")), str(item.get("message", ""))
                field_errors.append(FieldError(field=field, message=text))
    request_id = response.headers.get("x-request-id")
    kind = errors.error_class(status)
    if kind is errors.RateLimited:
        return errors.RateLimited(
            message,
            errors=field_errors,
            request_id=request_id,
            retry_after=retry_after(response),
        )
    return kind(message, status=status, errors=field_errors, request_id=request_id)


def network_error(error: httpx.TransportError, attempts: int) -> errors.NetworkError:
    kind = errors.Timeout if isinstance(error, httpx.TimeoutException) else errors.NetworkError
    tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
    return kind(f"{type(error).__name__}: {error or 'no answer'} (after {tries})")


def retry_after(response: httpx.Response) -> float | None:
    """`Retry-After` in seconds: a number of seconds, or an HTTP date (None if absent or bad)."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


# Retries ----------------------------------------------------------------------------------


@dataclass(slots=True)
class RetryPolicy:
    """How often and how long to wait: at most `max_retries` retries of a call; before retry n
    (from 0), a wait drawn uniformly from [0, min(max_backoff, initial_backoff * 2^n)] ("full
    jitter", so that clients failing together do not come back together), or exactly the
    `Retry-After` the service sent, if it sent one. A `Retry-After` above `max_retry_after`
    seconds is not waited for: the error is raised at once (its `retry_after` says when)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0
    random: Any = field(default=random.random)

    def backoff(self, retry: int) -> float:
        ceiling = min(self.max_backoff, self.initial_backoff * (2.0**retry))
        return float(self.random()) * ceiling

    def after_error(
        self, request: Request, error: httpx.TransportError, retry: int
    ) -> float | None:
        """The wait before retrying after a network error, or None: raise it."""
        if retry >= self.max_retries or isinstance(error, _HOPELESS):
            return None
        if request.safety is Safety.ONCE and not isinstance(error, _NOT_SENT):
            return None
        return self.backoff(retry)

    def after_response(
        self, request: Request, response: httpx.Response, retry: int
    ) -> float | None:
        """The wait before retrying after an error status, or None: raise it."""
        if retry >= self.max_retries or request.safety is Safety.ONCE:
            return None
        if response.status_code not in RETRY_STATUSES:
            return None
        wait = retry_after(response)
        if wait is None:
            return self.backoff(retry)
        return wait if wait <= self.max_retry_after else None


def user_agent() -> str:
    from invoicing_client import __version__

    return f"invoicing-client/{__version__} python-httpx/{httpx.__version__}"
