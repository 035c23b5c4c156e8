"""Webhook endpoints: list and create them (the signing secret shown once, on the page the form
posts to); see one with its deliveries; change, ping, disable or enable, rotate its secret, delete
it, and send a delivery again."""

from typing import Annotated, Any

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.console import forms
from invoicing.console.common import (
    PAGE_SIZE,
    done,
    first_submission,
    new_form_key,
    notice_of,
    page_items,
)
from invoicing.console.render import page
from invoicing.console.routing import Console, console_router
from invoicing.console.sessions import Session
from invoicing.core.errors import AppError
from invoicing.web import context
from invoicing.webhooks import service
from invoicing.webhooks.events import ALL, EVENT_TYPES
from invoicing.webhooks.process import wake
from invoicing.webhooks.schemas import WebhookCreate, WebhookUpdate
from invoicing.webhooks.signing import SecretBox

router = console_router()
EVENT_CHOICES = (ALL, *EVENT_TYPES)
Cursor = Annotated[str | None, Query(max_length=200)]
ALREADY_CREATED = (
    "This form was already submitted: the endpoint was created then, and its secret shown that "
    "once. If it was not copied, rotate the endpoint's secret."
)
ALREADY_ROTATED = (
    "This form was already submitted: the secret was rotated then, and the new one shown that "
    "once. If it was not copied, rotate it again."
)


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


def _fields(form: forms.Form) -> dict[str, Any]:
    """The create and change forms' fields, as the API's body names them."""
    return {"url": form["url"], "events": form.all("events"), "description": form["description"]}


async def _list_page(
    request: Request,
    session: Session,
    *,
    cursor: str | None = None,
    created: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    async with context.database(request).read() as connection:
        endpoints, next_cursor = page_items(await service.list_page(connection, PAGE_SIZE, cursor))
    return page(
        request,
        "webhooks.html",
        session,
        status=status,
        endpoints=endpoints,
        next_cursor=next_cursor,
        created=created,
        choices=EVENT_CHOICES,
        chosen=form.all("events") if form else [ALL],
        errors=errors or {},
        form=form,
        key=new_form_key(),
        notice=notice or notice_of(request),
    )


async def _detail(
    request: Request,
    session: Session,
    endpoint_id: str,
    *,
    cursor: str | None = None,
    secret: str | None = None,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    await service.move_outbox(context.database(request))
    async with context.database(request).read() as connection:
        endpoint = await service.get(connection, endpoint_id)
        deliveries, next_cursor = page_items(
            await service.deliveries_page(connection, endpoint_id, PAGE_SIZE, cursor)
        )
    return page(
        request,
        "webhook.html",
        session,
        status=status,
        endpoint=endpoint,
        deliveries=deliveries,
        next_cursor=next_cursor,
        secret=secret,
        choices=EVENT_CHOICES,
        chosen=form.all("events") if form else endpoint["events"],
        errors=errors or {},
        form=form,
        key=new_form_key(),
        notice=notice or notice_of(request),
    )


@router.get("/webhooks")
async def webhook_list(request: Request, session: Console, cursor: Cursor = None) -> Response:
    return await _list_page(request, session, cursor=cursor)


@router.post("/webhooks")
async def create_webhook(request: Request, session: Console) -> Response:
    """The list again (200), with the secret: a redirect would leave it nowhere to be shown."""
    form = await forms.read(request, session.csrf)
    settings = request.app.state.settings
    try:
        payload = forms.validate(WebhookCreate, _fields(form))
        async with context.database(request).write() as connection:
            created = None
            if await first_submission(connection, session, form):
                created = await service.create(connection, payload, settings, _box(request))
    except AppError as error:
        return await _list_page(
            request, session, errors=forms.errors_of(error), form=form, status=error.status
        )
    if created is None:
        return await _list_page(request, session, notice=ALREADY_CREATED)
    return await _list_page(request, session, created=created, notice="Webhook endpoint created")


@router.get("/webhooks/{endpoint_id}")
async def webhook_detail(
    request: Request, session: Console, endpoint_id: str, cursor: Cursor = None
) -> Response:
    return await _detail(request, session, endpoint_id, cursor=cursor)


@router.post("/webhooks/{endpoint_id}")
async def change_webhook(request: Request, session: Console, endpoint_id: str) -> Response:
    form = await forms.read(request, session.csrf)
    settings = request.app.state.settings
    try:
        payload = forms.validate(WebhookUpdate, _fields(form))
        async with context.database(request).write() as connection:
            await service.update(connection, endpoint_id, payload, settings)
    except AppError as error:
        return await _detail(
            request,
            session,
            endpoint_id,
            errors=forms.errors_of(error),
            form=form,
            status=error.status,
        )
    return done(f"/admin/webhooks/{endpoint_id}", "Webhook endpoint updated")


@router.post("/webhooks/{endpoint_id}/test")
async def test_webhook(request: Request, session: Console, endpoint_id: str) -> Response:
    await forms.read(request, session.csrf)
    async with context.database(request).write() as connection:
        ping = await service.ping(connection, endpoint_id)
    wake(request)
    return done(f"/admin/webhooks/{endpoint_id}", f"Ping {ping['eventId']} queued")


@router.post("/webhooks/{endpoint_id}/enable")
async def enable_webhook(request: Request, session: Console, endpoint_id: str) -> Response:
    return await _switch(request, session, endpoint_id, enabled=True)


@router.post("/webhooks/{endpoint_id}/disable")
async def disable_webhook(request: Request, session: Console, endpoint_id: str) -> Response:
    return await _switch(request, session, endpoint_id, enabled=False)


async def _switch(
    request: Request, session: Session, endpoint_id: str, *, enabled: bool
) -> Response:
    await forms.read(request, session.csrf)
    settings = request.app.state.settings
    async with context.database(request).write() as connection:
        await service.update(connection, endpoint_id, WebhookUpdate(enabled=enabled), settings)
    wake(request)
    notice = "Webhook endpoint enabled" if enabled else "Webhook endpoint disabled"
    return done(f"/admin/webhooks/{endpoint_id}", notice)


@router.post("/webhooks/{endpoint_id}/rotate-secret")
async def rotate_secret(request: Request, session: Console, endpoint_id: str) -> Response:
    """The page again (200), with the new secret; submitted twice, it rotates once (a second
    rotation would end the old secret at once instead of after 24 hours)."""
    form = await forms.read(request, session.csrf)
    async with context.database(request).write() as connection:
        rotated = None
        if await first_submission(connection, session, form):
            rotated = await service.rotate_secret(connection, endpoint_id, _box(request))
    if rotated is None:
        return await _detail(request, session, endpoint_id, notice=ALREADY_ROTATED)
    notice = "Secret rotated; the previous one also signs for 24 hours"
    return await _detail(request, session, endpoint_id, secret=rotated["secret"], notice=notice)


@router.post("/webhooks/{endpoint_id}/delete")
async def delete_webhook(request: Request, session: Console, endpoint_id: str) -> Response:
    await forms.read(request, session.csrf)
    async with context.database(request).write() as connection:
        endpoint = await service.delete(connection, endpoint_id)
    return done("/admin/webhooks", f"Webhook endpoint {endpoint['url']} deleted")


@router.post("/webhooks/{endpoint_id}/retry-failed")
async def retry_failed(request: Request, session: Console, endpoint_id: str) -> Response:
    await forms.read(request, session.csrf)
    async with context.database(request).write() as connection:
        count = await service.retry_failed(connection, endpoint_id)
    wake(request)
    notice = f"{count} failed deliver{'y' if count == 1 else 'ies'} queued again"
    return done(f"/admin/webhooks/{endpoint_id}", notice)


@router.post("/webhooks/{endpoint_id}/deliveries/{event_id}/retry")
async def retry_delivery(
    request: Request, session: Console, endpoint_id: str, event_id: str
) -> Response:
    await forms.read(request, session.csrf)
    async with context.database(request).write() as connection:
        delivery = await service.retry(connection, endpoint_id, event_id)
    wake(request)
    notice = f"Delivery of {delivery['eventType']} {delivery['eventId']} queued"
    return done(f"/admin/webhooks/{endpoint_id}", notice)
