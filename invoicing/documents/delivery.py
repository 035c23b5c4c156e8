"""Issued documents (invoices, credit notes) as PDFs, and their delivery by email (recorded only
once the mail server accepted it)."""

import asyncio
import dataclasses
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.config import Settings
from invoicing.core.errors import TOO_MANY_REQUESTS, BadGateway, TooManyRequests, ValidationFailed
from invoicing.core.times import now
from invoicing.credit_notes import repository as credit_note_rows
from invoicing.credit_notes import service as credit_notes
from invoicing.db.base import Connection, Database
from invoicing.documents.disconnect import while_connected
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.renderer import PdfRenderer
from invoicing.einvoice import requirements
from invoicing.einvoice.cii import build_cii
from invoicing.invoices import repository as invoice_rows
from invoicing.invoices import service as invoices
from invoicing.mail.delivery import MailDeliveryError, deliver
from invoicing.mail.message import (
    InvalidRecipient,
    attachment_filename,
    compose_invoice_email,
    parse_recipient,
)
from invoicing.web import context

SEND_WINDOW = timedelta(hours=1)

Render = Callable[[InvoiceDocument], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of issued document, as delivery sees it."""

    name: str
    get: Callable[[Connection, str, Settings], Awaitable[dict[str, Any]]]
    record_sent: Callable[[Connection, str, str, Settings], Awaitable[dict[str, Any]]]
    recent_mail_times: Callable[[Connection, str, datetime, int], Awaitable[list[datetime | str]]]

    @property
    def send_failed(self) -> str:
        return f"The {self.name} email could not be sent"


INVOICES = Kind("invoice", invoices.get, invoices.record_sent, invoice_rows.recent_mail_times)
CREDIT_NOTES = Kind(
    "credit note",
    lambda connection, id, settings: credit_notes.get(connection, id),
    lambda connection, id, to, settings: credit_notes.record_sent(connection, id, to),
    credit_note_rows.recent_mail_times,
)


def renderer_for(request: Request) -> Render:
    """PDFs for this request's caller (its token's place in the renderer's queues), given up as
    soon as the client leaves."""
    renderer: PdfRenderer = request.app.state.pdf_renderer
    token = principal(request).id

    async def render(document: InvoiceDocument) -> bytes:
        return await while_connected(request, renderer.render(document, token=token))

    return render


async def load_data(database: Database, kind: Kind, id: str, settings: Settings) -> dict[str, Any]:
    """The document's API object with exact decimals (what documents and e-invoices are built
    from): as it was issued, with its own copies of the seller and the customer."""
    async with database.read() as connection:
        data = await kind.get(connection, id, settings)
    exact: dict[str, Any] = json.loads(orjson.dumps(data), parse_float=Decimal)
    return exact


async def load(database: Database, kind: Kind, id: str, settings: Settings) -> InvoiceDocument:
    """The document to render and send. When its data is complete for EN 16931 (what
    `GET .../cii` serves, at most 2 currency decimals included), it carries that CII, and its PDF
    is a Factur-X PDF/A-3b embedding it (API.md, "E-invoices"); otherwise a plain PDF."""
    data = await load_data(database, kind, id, settings)
    document = InvoiceDocument.from_api(data, locale=settings.locale)
    if requirements.missing(data, "en16931"):
        return document
    return dataclasses.replace(document, factur_x=build_cii(data, profile="en16931"))


async def pdf_response(request: Request, kind: Kind, id: str, *, inline: bool = False) -> Response:
    settings: Settings = request.app.state.settings
    document = await load(context.database(request), kind, id, settings)
    pdf = await renderer_for(request)(document)
    name = attachment_filename(document.number, credit_note=document.is_credit_note)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"'
        },
    )


async def send(request: Request, kind: Kind, id: str, to: str | None) -> tuple[dict[str, Any], str]:
    """Email the document with its PDF; only after the server accepted it is the mail recorded."""
    settings: Settings = request.app.state.settings
    database = context.database(request)
    document = await load(database, kind, id, settings)
    recipient = to if to is not None else document.customer_email
    if not recipient:
        raise ValidationFailed(
            "to is required: the customer has no email address",
            errors=[{"field": "to", "message": "is required"}],
        )
    try:
        recipient = parse_recipient(recipient)
    except InvalidRecipient as error:
        raise ValidationFailed(
            str(error), errors=[{"field": "to", "message": str(error)}]
        ) from None
    await _check_send_limit(database, kind, id, settings.invoice_sends_per_hour)
    pdf = await renderer_for(request)(document)
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
        raise BadGateway(kind.send_failed) from None
    async with database.write() as connection:
        sent = await kind.record_sent(connection, id, recipient, settings)
    return sent, recipient


async def _check_send_limit(database: Database, kind: Kind, id: str, per_hour: int) -> None:
    """429 past `per_hour` sends of the document within the last hour, counted from the stored
    mails so that the limit holds across server processes and restarts. Sends under way at the
    same moment are counted only once recorded, so they can pass it by as many as run at once."""
    at = now()
    async with database.read() as connection:
        latest = await kind.recent_mail_times(connection, id, at - SEND_WINDOW, per_hour)
    if len(latest) < per_hour:
        return
    oldest = latest[-1]  # the first of the window's sends to leave it
    if not isinstance(oldest, datetime):  # SQLite keeps the ISO 8601 text
        oldest = datetime.fromisoformat(oldest)
    wait = (oldest + SEND_WINDOW - at).total_seconds()
    raise TooManyRequests(TOO_MANY_REQUESTS, retry_after=math.ceil(wait))
