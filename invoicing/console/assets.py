"""The console's stylesheet, served by the service itself (nothing is loaded from elsewhere)."""

from functools import cache
from importlib.resources import files

from starlette.responses import Response

from invoicing.console.routing import console_router

router = console_router()


@cache
def _stylesheet() -> bytes:
    return files("invoicing.console").joinpath("static/console.css").read_bytes()


@router.get("/static/console.css")
async def stylesheet() -> Response:
    return Response(
        _stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )
