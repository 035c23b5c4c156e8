"""The API docs, served by the service itself so that they work without internet: Swagger UI at
/docs and ReDoc at /redoc, from the assets the `fastapi-offline` package ships (only its static
files are used), and `GET /`, a short pointer to them. All of it is public (no token)."""

import base64
import gzip
import hashlib
import re
from functools import cache
from importlib.resources import files
from typing import Any

import orjson
from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from invoicing.web.responses import json_response

ASSETS = "/docs/assets/"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_COMPRESSED = frozenset(name for name in _TYPES if not name.endswith(".png"))
# Every path of this module, for the token check (invoicing.auth.middleware): exact paths, so an
# unknown path under /docs/assets/ is refused without a token like any unknown route.
PUBLIC_PATHS = frozenset({"/", "/docs", "/redoc", *(ASSETS + name for name in _TYPES)})

# An asset's URL carries a digest of its content, so it may be cached for good: an upgraded
# package's files get new URLs.
_FOREVER = "public, max-age=31536000, immutable"
_PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}
# Both pages load scripts, styles and the spec from this service only. Swagger UI starts from one
# inline script (allowed by its hash, below); ReDoc injects <style> elements and runs its search
# in a worker made from a blob.
_POLICY = (
    "default-src 'self'; script-src 'self'{scripts}; style-src 'self'{styles}; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'"
)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_NO_GZIP = re.compile(r"q\s*=\s*0(\.0*)?\s*$")

router = APIRouter()


@cache
def _body(name: str) -> bytes:
    return files("fastapi_offline").joinpath("static", name).read_bytes()


@cache
def _digest(name: str) -> str:
    return hashlib.sha256(_body(name)).hexdigest()[:16]


@cache
def _gzipped(name: str) -> bytes:
    return gzip.compress(_body(name), 6, mtime=0)


def _url(root: str, name: str) -> str:
    return f"{root}{ASSETS}{name}?v={_digest(name)}"


def _root(request: Request) -> str:
    """The path the service is mounted under behind a proxy (`--root-path`), usually ''."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def _accepts_gzip(accept_encoding: str) -> bool:
    allowed: dict[str, bool] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, parameters = part.partition(";")
        allowed[coding.strip()] = not _NO_GZIP.match(parameters.strip())
    return allowed.get("gzip", allowed.get("*", False))


def _page(response: HTMLResponse, *, styles: str = "") -> HTMLResponse:
    """The page with its security headers; its inline scripts are allowed by their hashes."""
    scripts = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(bytes(response.body).decode())
    )
    response.headers.update(_PAGE_HEADERS)
    response.headers["Content-Security-Policy"] = _POLICY.format(scripts=scripts, styles=styles)
    return response


# Sync endpoints (run in a worker thread): the first use of an asset reads it from the package
# (and compresses it), once.
@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return _page(
        get_swagger_ui_html(
            openapi_url=root + str(request.app.openapi_url),
            title=f"{request.app.title} API - Swagger UI",
            swagger_js_url=_url(root, "swagger-ui-bundle.js"),
            swagger_css_url=_url(root, "swagger-ui.css"),
            swagger_favicon_url=_url(root, "favicon.png"),
            swagger_ui_parameters=request.app.swagger_ui_parameters,
        )
    )


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    return _page(
        get_redoc_html(
            openapi_url=root + str(request.app.openapi_url),
            title=f"{request.app.title} API - ReDoc",
            redoc_js_url=_url(root, "redoc.standalone.js"),
            redoc_favicon_url=_url(root, "favicon.png"),
            with_google_fonts=False,
        ),
        styles=" 'unsafe-inline'",
    )


def _serve(name: str, request: Request) -> Response:
    headers = {"Cache-Control": _FOREVER}
    body = _body(name)
    if name in _COMPRESSED:
        headers["Vary"] = "Accept-Encoding"
        if _accepts_gzip(request.headers.get("accept-encoding", "")):
            body = _gzipped(name)
            headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=_TYPES[name], headers=headers)


def _asset_route(name: str) -> None:
    def asset(request: Request) -> Response:
        return _serve(name, request)

    router.add_api_route(
        ASSETS + name, asset, methods=["GET"], name=f"docs_asset:{name}", include_in_schema=False
    )


for _name in _TYPES:
    _asset_route(_name)


FRONT_DOOR_EXAMPLE = {
    "name": "Invoicing",
    "version": "0.1.0",
    "docs": "/docs",
    "redoc": "/redoc",
    "openapi": "/openapi.json",
    "console": "/admin",
    "health": "/health",
}
_FRONT_DOOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {key: {"type": "string"} for key in FRONT_DOOR_EXAMPLE},
    "required": list(FRONT_DOOR_EXAMPLE),
}


@router.get(
    "/",
    tags=["operations"],
    summary="Where to start",
    description=(
        "The service's name and version and where its documentation is: Swagger UI (`docs`), "
        "ReDoc (`redoc`), the OpenAPI document (`openapi`), the admin console (`console`) and "
        "the health check (`health`). No token needed."
    ),
    responses={
        200: {
            "content": {
                "application/json": {"schema": _FRONT_DOOR_SCHEMA, "example": FRONT_DOOR_EXAMPLE}
            }
        }
    },
)
async def front_door(request: Request) -> Response:
    root = _root(request)
    return json_response(
        orjson.dumps(
            {
                "name": request.app.title,
                "version": request.app.version,
                "docs": f"{root}/docs",
                "redoc": f"{root}/redoc",
                "openapi": root + str(request.app.openapi_url),
                "console": f"{root}/admin",
                "health": f"{root}/health",
            }
        )
    )
