from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import Admin
from invoicing.web import context
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, ListEnvelope, error_responses
from invoicing.webhooks import service
from invoicing.webhooks.process import wake
from invoicing.webhooks.schemas import (
    DeliveryOut,
    PingOut,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecretOut,
)
from invoicing.webhooks.signing import SecretBox

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=error_responses(401, 403))
Limit = Annotated[int, Query(ge=1, le=100)]


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[WebhookWithSecretOut],
    responses=error_responses(400, 413, 415),
    openapi_extra=body(WebhookCreate),
)
async def create_webhook(request: Request, caller: Admin) -> Response:
    payload = await parse(request, WebhookCreate)
    settings = request.app.state.settings
    async with context.database(request).write() as connection:
        endpoint = await service.create(connection, payload, settings, _box(request))
    return json_response(success_body(endpoint, message="Webhook endpoint created"), 201)


@router.get("", response_model=ListEnvelope[WebhookOut], responses=error_responses(400))
async def list_webhooks(
    request: Request, caller: Admin, limit: Limit = 20, cursor: str | None = None
) -> Response:
    async with context.database(request).read() as connection:
        page = await service.list_page(connection, limit, cursor)
    return json_response(page)


@router.get("/{endpoint_id}", response_model=Envelope[WebhookOut], responses=error_responses(404))
async def get_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).read() as connection:
        endpoint = await service.get(connection, endpoint_id)
    return json_response(success_body(endpoint))


@router.patch(
    "/{endpoint_id}",
    response_model=CreatedEnvelope[WebhookOut],
    responses=error_responses(400, 404, 413, 415),
    openapi_extra=body(WebhookUpdate),
)
async def update_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    payload = await parse(request, WebhookUpdate)
    settings = request.app.state.settings
    async with context.database(request).write() as connection:
        endpoint = await service.update(connection, endpoint_id, payload, settings)
    wake(request)
    return json_response(success_body(endpoint, message="Webhook endpoint updated"))


@router.delete(
    "/{endpoint_id}", response_model=CreatedEnvelope[WebhookOut], responses=error_responses(404)
)
async def delete_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).write() as connection:
        endpoint = await service.delete(connection, endpoint_id)
    return json_response(success_body(endpoint, message="Webhook endpoint deleted"))


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=CreatedEnvelope[WebhookWithSecretOut],
    responses=error_responses(404),
)
async def rotate_webhook_secret(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).write() as connection:
        endpoint = await service.rotate_secret(connection, endpoint_id, _box(request))
    message = "Secret rotated; the previous one also signs for 24 hours"
    return json_response(success_body(endpoint, message=message))


@router.post(
    "/{endpoint_id}/test",
    status_code=202,
    response_model=CreatedEnvelope[PingOut],
    responses=error_responses(404),
)
async def test_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).write() as connection:
        ping = await service.ping(connection, endpoint_id)
    wake(request)
    return json_response(success_body(ping, message="Ping queued"), 202)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=ListEnvelope[DeliveryOut],
    responses=error_responses(400, 404),
)
async def list_deliveries(
    request: Request,
    caller: Admin,
    endpoint_id: str,
    limit: Limit = 20,
    cursor: str | None = None,
) -> Response:
    async with context.database(request).read() as connection:
        page = await service.deliveries_page(connection, endpoint_id, limit, cursor)
    return json_response(page)


@router.post(
    "/{endpoint_id}/deliveries/{event_id}/retry",
    status_code=202,
    response_model=CreatedEnvelope[DeliveryOut],
    responses=error_responses(404),
)
async def retry_delivery(
    request: Request, caller: Admin, endpoint_id: str, event_id: str
) -> Response:
    async with context.database(request).write() as connection:
        delivery = await service.retry(connection, endpoint_id, event_id)
    wake(request)
    return json_response(success_body(delivery, message="Delivery queued"), 202)
