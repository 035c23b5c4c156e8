"""Stored documents over HTTP: their bytes as they are, an ETag, and 304 for a client that has them.

- `ETag: "<sha256 hex>"`: a strong validator, since the bytes behind a document's URL never
  change once stored (invoicing.documents.store).
- `If-None-Match` (RFC 9110, 13.1.2): `*`, or a list of entity tags compared weakly (a `W/`
  prefix is ignored); a match answers `304 Not Modified` with the same ETag and Cache-Control and
  no body.
- `Cache-Control: private, max-age=31536000, immutable`. The 200 of a document's URL is the same
  bytes forever (errors carry no such header), so a client may keep them as long as it likes
  without asking again: a year, the longest that caches are expected to honour, and `immutable` so
  that a browser does not revalidate on reload either. `private` because the answer is a
  customer's business data fetched with a token: the token travels in an `accessToken` header,
  which, unlike `Authorization`, does not keep a shared cache (a proxy, a CDN) from storing the
  answer and handing it to someone without one (RFC 9111, 3.5).
"""

import re
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

CACHE_CONTROL = "private, max-age=31536000, immutable"
# An element of If-None-Match: `*` or an entity tag, weak or not (`W/"..."`, `"..."`).
_ELEMENT = re.compile(r'(\*)|(?:W/)?"([^"]*)"')


def etag(sha256: str) -> str:
    return f'"{sha256}"'


def matches(values: Iterable[str], sha256: str) -> bool:
    """Whether If-None-Match (its header lines) matches the document whose hash is `sha256`."""
    for value in values:
        for star, opaque in _ELEMENT.findall(value):
            if star or opaque == sha256:
                return True
    return False


def if_none_match(request: Request) -> list[str]:
    """The request's If-None-Match header lines (none: an empty list)."""
    return request.headers.getlist("if-none-match")


def not_modified(sha256: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag(sha256), "Cache-Control": CACHE_CONTROL})


def document_response(
    content: bytes, sha256: str, *, media_type: str, filename: str, inline: bool = False
) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "ETag": etag(sha256),
            "Cache-Control": CACHE_CONTROL,
        },
    )


# OpenAPI: the conditional request header (in `openapi_extra`, so that the route keeps the fast
# path's shape: a request and its path), and the 200 and 304 answers of a stored document.
CONDITIONAL: dict[str, Any] = {
    "parameters": [
        {
            "name": "If-None-Match",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": 'ETags the client holds (`"<sha256>"`, a list, or `*`): when one '
            "is the document's, the answer is 304 with no body.",
        }
    ]
}
_HEADERS = {
    "ETag": {
        "description": '`"<sha256 hex>"`: the SHA-256 of the bytes, the same on every answer',
        "schema": {"type": "string"},
    },
    "Cache-Control": {
        "description": f"`{CACHE_CONTROL}`: the bytes never change",
        "schema": {"type": "string"},
    },
}


def openapi_responses(media_type: str, schema: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"headers": _HEADERS, "content": {media_type: {"schema": schema}}},
        304: {
            "description": "Not Modified: If-None-Match names the document's ETag (or is `*`); "
            "no body",
            "headers": {"ETag": _HEADERS["ETag"], "Cache-Control": _HEADERS["Cache-Control"]},
        },
    }
