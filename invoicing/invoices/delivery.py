"""An invoice as a document: its PDF, and its delivery by email (recorded only once accepted)."""

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request

from invoicing.auth.dependencies import principal
from invoicing.config import Settings
from invoicing.core.errors import TOO_MANY_REQUESTS, BadGateway, TooManyRequests, ValidationFailed
from invoicing.core.times import now
from invoicing.db.base import Database
from invoicing.documents.disconnect import while_connected
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.renderer import PdfRenderer
from invoicing.invoices import repository, service
from invoicing.mail.delivery import MailDeliveryError, deliver
from invoicing.mail.message import InvalidRecipient, compose_invoice_email, parse_recipient
from invoicing.orders import service as orders

SEND_FAILED = "The invoice email could not be sent"
SEND_WINDOW = timedelta(hours=1)

Render = Callable[[InvoiceDocument], Awaitable[bytes]]


def renderer_for(request: Request) -> Render:
    """PDFs for this request's caller (its token's place in the renderer's queues), given up as
    soon as the client leaves."""
    renderer: PdfRenderer = request.app.state.pdf_renderer
    token = principal(request).id

    async def render(document: InvoiceDocument) -> bytes:
        return await while_connected(request, renderer.render(document, token=token))

    return render


async def load(database: Database, invoice_id: str, settings: Settings) -> InvoiceDocument:
    async with database.read() as connection:
        invoice, lines = await service.get_with_lines(connection, invoice_id)
        customer = await orders.customer(connection, invoice["order_id"])
    return InvoiceDocument.from_rows(
        invoice,
        lines,
        customer,
        seller_name=settings.seller_name,
        seller_address=settings.seller_address,
        locale=settings.locale,
    )


async def send(
    database: Database,
    invoice_id: str,
    to: str | None,
    settings: Settings,
    render: Render,
) -> tuple[dict[str, Any], str]:
    """Email the invoice with its PDF; only after the server accepted it is the mail recorded."""
    document = await load(database, invoice_id, settings)
    recipient = to if to is not None else document.customer_email
    if not recipient:
        raise ValidationFailed(
            "to is required: the order's customer has no email address",
            errors=[{"field": "to", "message": "is required"}],
        )
    try:
        recipient = parse_recipient(recipient)
    except InvalidRecipient as error:
        raise ValidationFailed(
            str(error), errors=[{"field": "to", "message": str(error)}]
        ) from None
    await _check_send_limit(database, invoice_id, settings.invoice_sends_per_hour)
    pdf = await render(document)
    message = compose_invoice_email(document, pdf, sender=settings.mail_from, recipient=recipient)
    try:
        await asyncio.to_thread(
            deliver,
            message,
            smtp_url=settings.smtp_url,
            outbox_dir=settings.outbox_dir,
            timeout=settings.smtp_timeout,
        )
    except (MailDeliveryError, OSError):
        raise BadGateway(SEND_FAILED) from None
    async with database.write() as connection:
        invoice = await service.record_sent(connection, invoice_id, recipient)
    return invoice, recipient


async def _check_send_limit(database: Database, invoice_id: str, per_hour: int) -> None:
    """429 past `per_hour` sends of the invoice within the last hour, counted from the stored
    mails so that the limit holds across server processes and restarts. Sends under way at the
    same moment are counted only once recorded, so they can pass it by as many as run at once."""
    at = now()
    async with database.read() as connection:
        latest = await repository.recent_mail_times(
            connection, invoice_id, at - SEND_WINDOW, per_hour
        )
    if len(latest) < per_hour:
        return
    oldest = latest[-1]  # the first of the window's sends to leave it
    if not isinstance(oldest, datetime):  # SQLite keeps the ISO 8601 text
        oldest = datetime.fromisoformat(oldest)
    wait = (oldest + SEND_WINDOW - at).total_seconds()
    raise TooManyRequests(TOO_MANY_REQUESTS, retry_after=math.ceil(wait))
