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


def page_body(items: list[bytes], next_cursor: str | None) -> bytes:
    """The list envelope around items already encoded (see `pagination.list_page`), joined once."""
    pieces = [b'{"success":true,"data":[']
    for index, item in enumerate(items):
        if index:
            pieces.append(b",")
        pieces.append(item)
    pieces += (b'],"nextCursor":', orjson.dumps(next_cursor), b"}")
    return b"".join(pieces)


def json_response(
    content: bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(content, status_code=status, headers=headers, media_type="application/json")


def error_body(message: str, errors: list[dict[str, Any]] | None = None) -> bytes:
    body: dict[str, Any] = {"success": False, "message": message}
    if errors:
        body["errors"] = errors
    return orjson.dumps(body)
