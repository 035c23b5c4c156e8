from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response

from invoicing.core.errors import DATABASE_UNAVAILABLE
from invoicing.db.base import DatabaseUnavailable
from invoicing.web import context
from invoicing.web.responses import json_response
from invoicing.web.schemas import error_responses

router = APIRouter(tags=["operations"])


@router.get(
    "/health",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ok"}}}},
        **error_responses(503),
    },
    summary="Check that the service and its database answer",
    description='`200 {"status": "ok"}` when the database answers, 503 otherwise: for load '
    "balancers and orchestrators. No token needed.",
)
async def health(request: Request) -> Response:
    try:
        await context.database(request).ping()
    except (DatabaseUnavailable, OSError, TimeoutError):
        return json_response(
            b'{"success":false,"message":"'
            + DATABASE_UNAVAILABLE.encode()
            + b'","status":"unavailable"}',
            503,
        )
    return json_response(b'{"status":"ok"}')


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    summary="Get Prometheus metrics",
    description="Requests by route and status, their durations by route, invoices created, "
    "and the process's own metrics, in the Prometheus text format. No token needed.",
)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
