"""JSON out: the contract's envelopes as bytes (one fast encoder) and the Response carrying them."""

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response


def success_body(data: Any, *, message: str | None = None) -> bytes:
    body: dict[str, Any] = {"success": True, "data": data}
    if message is not None:
        body["message"] = message
    return orjson.dumps(body)


def page_body(data: list[Any], next_cursor: str | None) -> bytes:
    return orjson.dumps({"success": True, "data": data, "nextCursor": next_cursor})


def json_response(
    content: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def error_body(message: str, errors: list[dict[str, Any]] | None = None) -> bytes:
    body: dict[str, Any] = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    return orjson.dumps(body)
