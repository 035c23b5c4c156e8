from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import Admin
from invoicing.web import context
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import (
    CreatedEnvelope,
    Envelope,
    ListEnvelope,
    Said,
    Says,
    error_responses,
)
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
from invoicing.webhooks.service import DELIVERY_NOT_FOUND, ENDPOINT_NOT_FOUND
from invoicing.webhooks.signing import SecretBox

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=error_responses(401, 403))
Limit = Annotated[int, Query(ge=1, le=100)]

NOT_FOUND = Says(ENDPOINT_NOT_FOUND, "No webhook endpoint has this id (a malformed id included)")
URL_REFUSED: list[Said] = [
    "Validation error: url must be an http:// or https:// URL",
    "Validation error: url must name a host",
    "Validation error: url has an invalid port",
    "Validation error: url must not contain a user name or password",
    "Validation error: url must not contain a fragment (#...)",
    Says(
        "Validation error: url must be on a public address: 10.0.0.7 is not a public address "
        "(see INVOICING_WEBHOOK_ALLOW_PRIVATE)",
        "url is on a loopback, private or link-local address",
    ),
    Says(
        "Validation error: events unknown event type 'invoice.voided'; known: order.created, "
        "invoice.created, invoice.sent, invoice.paid, payment.created, creditnote.created, "
        'creditnote.sent, or "*"',
        "events names an unknown event type",
    ),
    Says(
        'Validation error: events ["*"] stands alone: it already means every event type',
        '["*"] together with other event types',
    ),
]


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[WebhookWithSecretOut],
    responses=error_responses(messages={400: ["Validation error: url is required", *URL_REFUSED]}),
    openapi_extra=body(WebhookCreate),
    summary="Register a webhook endpoint",
    description='Registers a URL to receive events (`events`, or `["*"]` for all). The '
    "response holds the endpoint's signing `secret` (`whsec_...`), shown only this once. Each "
    "event is POSTed as `{id, type, createdAt, data}` and signed per Standard Webhooks 1.0 "
    "(headers `webhook-id`, `webhook-timestamp`, `webhook-signature`): verify it with any "
    "Standard Webhooks library and dedupe on `webhook-id`, since delivery is at least once. "
    "Events are stored with the change they report, so they exist only for changes that "
    "committed. A 2xx within 10 s counts as delivered; otherwise retries follow for 3 days "
    "(after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h), after which the "
    "endpoint is disabled; a 410 disables it at once. Admin token only.",
)
async def create_webhook(request: Request, caller: Admin) -> Response:
    payload = await parse(request, WebhookCreate)
    settings = request.app.state.settings
    async with context.database(request).write() as connection:
        endpoint = await service.create(connection, payload, settings, _box(request))
    return json_response(success_body(endpoint, message="Webhook endpoint created"), 201)


@router.get(
    "",
    response_model=ListEnvelope[WebhookOut],
    summary="List webhook endpoints",
    description="Webhook endpoints, newest first (never their secrets), in pages of up to "
    "`limit` (1 to 100, default 20); pass `nextCursor` as `cursor` for the next page until it "
    "is null. Admin token only.",
)
async def list_webhooks(
    request: Request, caller: Admin, limit: Limit = 20, cursor: str | None = None
) -> Response:
    async with context.database(request).read() as connection:
        page = await service.list_page(connection, limit, cursor)
    return json_response(page)


@router.get(
    "/{endpoint_id}",
    response_model=Envelope[WebhookOut],
    responses=error_responses(messages={404: [NOT_FOUND]}),
    summary="Get a webhook endpoint",
    description="The endpoint, without its secret: its URL, event types, whether it is "
    "enabled and, if the service disabled it, why. Admin token only.",
)
async def get_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).read() as connection:
        endpoint = await service.get(connection, endpoint_id)
    return json_response(success_body(endpoint))


@router.patch(
    "/{endpoint_id}",
    response_model=CreatedEnvelope[WebhookOut],
    responses=error_responses(
        messages={
            400: [*URL_REFUSED, "Validation error: url must not be null"],
            404: [NOT_FOUND],
        }
    ),
    openapi_extra=body(WebhookUpdate),
    summary="Update a webhook endpoint",
    description="Changes the fields sent (`url`, `events`, `description`, `enabled`); none may "
    "be null. `enabled: false` pauses deliveries; `enabled: true` resumes a paused or disabled "
    "endpoint, and its pending deliveries go out. Admin token only.",
)
async def update_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    payload = await parse(request, WebhookUpdate)
    settings = request.app.state.settings
    async with context.database(request).write() as connection:
        endpoint = await service.update(connection, endpoint_id, payload, settings)
    wake(request)
    return json_response(success_body(endpoint, message="Webhook endpoint updated"))


@router.delete(
    "/{endpoint_id}",
    response_model=CreatedEnvelope[WebhookOut],
    responses=error_responses(messages={404: [NOT_FOUND]}),
    summary="Delete a webhook endpoint",
    description="Deletes the endpoint and its deliveries: nothing more is sent to it. "
    "Admin token only.",
)
async def delete_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).write() as connection:
        endpoint = await service.delete(connection, endpoint_id)
    return json_response(success_body(endpoint, message="Webhook endpoint deleted"))


@router.post(
    "/{endpoint_id}/rotate-secret",
    response_model=CreatedEnvelope[WebhookWithSecretOut],
    responses=error_responses(messages={404: [NOT_FOUND]}),
    summary="Rotate a webhook endpoint's signing secret",
    description="Creates a new secret, shown only in this response. For 24 hours the previous "
    "secret signs too (the `webhook-signature` header then carries both signatures), so that "
    "receivers can switch over without losing a delivery. Admin token only.",
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
    responses=error_responses(messages={404: [NOT_FOUND]}),
    summary="Send a test ping to a webhook endpoint",
    description="Queues a `ping` event for the endpoint (sent even when its `events` leave "
    "pings out) and answers 202 with the event's id; follow it in the deliveries. Admin token "
    "only.",
)
async def test_webhook(request: Request, caller: Admin, endpoint_id: str) -> Response:
    async with context.database(request).write() as connection:
        ping = await service.ping(connection, endpoint_id)
    wake(request)
    return json_response(success_body(ping, message="Ping queued"), 202)


@router.get(
    "/{endpoint_id}/deliveries",
    response_model=ListEnvelope[DeliveryOut],
    responses=error_responses(messages={404: [NOT_FOUND]}),
    summary="List a webhook endpoint's deliveries",
    description="The endpoint's deliveries, newest first: each event's id and type, its "
    "status (`pending`, `delivered`, `failed`), attempts, the last status code or error, and "
    "the next attempt's time. Pages of up to `limit` (1 to 100, default 20); pass `nextCursor` "
    "as `cursor` for the next page until it is null. Admin token only.",
)
async def list_deliveries(
    request: Request,
    caller: Admin,
    endpoint_id: str,
    limit: Limit = 20,
    cursor: str | None = None,
) -> Response:
    await service.move_outbox(context.database(request))
    async with context.database(request).read() as connection:
        page = await service.deliveries_page(connection, endpoint_id, limit, cursor)
    return json_response(page)


@router.post(
    "/{endpoint_id}/deliveries/{event_id}/retry",
    status_code=202,
    response_model=CreatedEnvelope[DeliveryOut],
    responses=error_responses(
        messages={
            404: [
                NOT_FOUND,
                Says(DELIVERY_NOT_FOUND, "The endpoint has no delivery of this event id"),
            ]
        }
    ),
    summary="Retry a webhook delivery",
    description="Sends the event to the endpoint again now, whatever became of it before "
    "(delivered or given up), and answers 202 with the delivery. Admin token only.",
)
async def retry_delivery(
    request: Request, caller: Admin, endpoint_id: str, event_id: str
) -> Response:
    async with context.database(request).write() as connection:
        delivery = await service.retry(connection, endpoint_id, event_id)
    wake(request)
    return json_response(success_body(delivery, message="Delivery queued"), 202)
