"""Issued documents (invoices, credit notes) as PDFs and e-invoices, made once, stored
(invoicing.documents.store) and served as stored, and their delivery by email (recorded only once
the mail server accepted it)."""

import asyncio
import dataclasses
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import orjson
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.config import Settings
from invoicing.core.errors import (
    TOO_MANY_REQUESTS,
    BadGateway,
    TooManyRequests,
    Unprocessable,
    ValidationFailed,
)
from invoicing.core.times import now
from invoicing.credit_notes import repository as credit_note_rows
from invoicing.credit_notes import service as credit_notes
from invoicing.db.base import Connection, Database
from invoicing.documents import serving, store
from invoicing.documents.disconnect import while_connected
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.renderer import PdfRenderer
from invoicing.documents.store import PDF, DocumentType, Format, Issued
from invoicing.einvoice import requirements
from invoicing.einvoice.terms import Profile
from invoicing.invoices import repository as invoice_rows
from invoicing.invoices import service as invoices
from invoicing.mail.message import (
    InvalidRecipient,
    attachment_filename,
    compose_invoice_email,
    parse_recipient,
)
from invoicing.web import context

SEND_WINDOW = timedelta(hours=1)

Render = Callable[[InvoiceDocument], Awaitable[bytes]]
Syntax = Literal["ubl", "cii"]
# Each e-invoice stored: its syntax, its profile, and its format in the store.
EINVOICES: tuple[tuple[Syntax, Profile, Format], ...] = (
    ("ubl", "peppol", "ubl"),
    ("ubl", "xrechnung", "ubl-xrechnung"),
    ("cii", "en16931", "cii"),
    ("cii", "xrechnung", "cii-xrechnung"),
)


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of issued document, as delivery sees it."""

    name: str
    get: Callable[[Connection, str, Settings], Awaitable[dict[str, Any]]]
    record_sent: Callable[[Connection, str, str, Settings], Awaitable[dict[str, Any]]]
    recent_mail_times: Callable[[Connection, str, datetime, int], Awaitable[list[datetime | str]]]
    type: DocumentType = "invoice"

    @property
    def send_failed(self) -> str:
        return f"The {self.name} email could not be sent"

    @property
    def incomplete(self) -> str:
        """The 422 message for a document whose data the rules of the profile asked for refuse."""
        return f"The {self.name} lacks data that EN 16931 requires"


INVOICES = Kind("invoice", invoices.get, invoices.record_sent, invoice_rows.recent_mail_times)
CREDIT_NOTES = Kind(
    "credit note",
    lambda connection, id, settings: credit_notes.get(connection, id),
    lambda connection, id, to, settings: credit_notes.record_sent(connection, id, to),
    credit_note_rows.recent_mail_times,
    type="credit_note",
)
KINDS: dict[DocumentType, Kind] = {"invoice": INVOICES, "credit_note": CREDIT_NOTES}


def renderer_for(request: Request) -> Render:
    """PDFs for this request's caller (its token's place in the renderer's queues), given up as
    soon as the client leaves. While one renders, this process renders nothing ahead
    (invoicing.documents.ahead)."""
    renderer: PdfRenderer = request.app.state.pdf_renderer
    ahead = getattr(request.app.state, "render_ahead", None)
    token = principal(request).id

    async def render(document: InvoiceDocument) -> bytes:
        if ahead is None:
            return await while_connected(request, renderer.render(document, token=token))
        with ahead.yielding():
            return await while_connected(request, renderer.render(document, token=token))

    return render


async def load_data(database: Database, kind: Kind, id: str, settings: Settings) -> dict[str, Any]:
    """The document's API object with exact decimals (what documents and e-invoices are built
    from): as it was issued, with its own copies of the seller and the customer."""
    async with database.read() as connection:
        data = await kind.get(connection, id, settings)
    exact: dict[str, Any] = json.loads(orjson.dumps(data), parse_float=Decimal)
    return exact


def as_issued(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """The document's API object as it was issued: an invoice without the payments and credit
    notes booked against it since (which its GET shows, and its mails state). What is stored is
    made from this, so the bytes are the same whenever they are made: on the first request,
    ahead of time, or by `invoicing documents render-missing`."""
    if kind.type == "credit_note":
        return data
    return {
        **data,
        "payments": [],
        "paidTotal": 0,
        "creditedTotal": 0,
        "amountDue": data["total"],
        "status": "open",
        "overdue": False,
    }


def document_of(data: dict[str, Any], settings: Settings) -> InvoiceDocument:
    """The document to render. When its data is complete for EN 16931 (what `GET .../cii`
    serves, at most 2 currency decimals included), it carries that CII, and its PDF is a Factur-X
    PDF/A-3b embedding it (API.md, "E-invoices"); otherwise a plain PDF."""
    document = InvoiceDocument.from_api(data, locale=settings.locale)
    if requirements.missing(data, "en16931"):
        return document
    return dataclasses.replace(document, factur_x=build_cii(data, profile="en16931"))


async def load(database: Database, kind: Kind, id: str, settings: Settings) -> InvoiceDocument:
    """The document as it stands now (a mail's text says what is left to pay)."""
    return document_of(await load_data(database, kind, id, settings), settings)


def build_einvoice(kind: Kind, data: dict[str, Any], syntax: Syntax, profile: Profile) -> bytes:
    """The e-invoice, or 422 naming what the rules of `profile` find missing."""
    missing = requirements.missing(data, profile)
    if missing:
        raise Unprocessable(kind.incomplete, errors=missing)
    if syntax == "ubl":
        return build_ubl(data, profile="xrechnung" if profile == "xrechnung" else "peppol")
    return build_cii(data, profile="xrechnung" if profile == "xrechnung" else "en16931")


# The e-invoices' builders (lxml) and mail (smtplib) are imported on first use, not with the app:
# a server process that never makes an e-invoice or sends a mail never loads them (issue 15).


def build_ubl(data: dict[str, Any], profile: Literal["peppol", "xrechnung"]) -> bytes:
    from invoicing.einvoice.ubl import build_ubl

    return build_ubl(data, profile=profile)


def build_cii(data: dict[str, Any], profile: Literal["en16931", "xrechnung"]) -> bytes:
    from invoicing.einvoice.cii import build_cii

    return build_cii(data, profile=profile)


def einvoice_format(syntax: Syntax, profile: Profile) -> Format:
    for each_syntax, each_profile, format in EINVOICES:
        if (each_syntax, each_profile) == (syntax, profile):
            return format
    raise ValueError(f"no {syntax} e-invoice has the profile {profile}")


async def stored_pdf(
    database: Database, kind: Kind, id: str, settings: Settings, render: Render
) -> Issued:
    """The document's stored PDF; rendered (as issued) and stored first when there is none."""
    found = await store.find(database, kind.type, id, PDF)
    if found is not None:
        return found
    data = as_issued(kind, await load_data(database, kind, id, settings))
    return await _store_pdf(database, kind, id, data, settings, render)


async def _store_pdf(
    database: Database,
    kind: Kind,
    id: str,
    data: dict[str, Any],
    settings: Settings,
    render: Render,
) -> Issued:
    document = document_of(data, settings)
    pdf = await render(document)
    return await store.put(database, kind.type, id, PDF, pdf, number=document.number)


async def stored_einvoice(
    database: Database, kind: Kind, id: str, settings: Settings, syntax: Syntax, profile: Profile
) -> Issued:
    """The document's stored e-invoice; built (as issued) and stored first when there is none.
    One the rules refuse (422) is not stored."""
    format = einvoice_format(syntax, profile)
    found = await store.find(database, kind.type, id, format)
    if found is not None:
        return found
    data = as_issued(kind, await load_data(database, kind, id, settings))
    xml = build_einvoice(kind, data, syntax, profile)
    return await store.put(database, kind.type, id, format, xml, number=data["number"])


async def store_missing(
    database: Database,
    kind: Kind,
    id: str,
    settings: Settings,
    render: Render,
    *,
    einvoices: bool = True,
) -> list[Format]:
    """Store what the document lacks: its PDF, and with `einvoices` each e-invoice that the rules
    accept. The formats stored (by this call or, at the same moment, by another process)."""
    async with database.read() as connection:
        have = await store.stored_kinds(connection, id)
    wanted = [PDF, *(format for _, _, format in EINVOICES if einvoices)]
    if all(format in have for format in wanted):
        return []
    data = as_issued(kind, await load_data(database, kind, id, settings))
    stored: list[Format] = []
    if PDF not in have:
        await _store_pdf(database, kind, id, data, settings, render)
        stored.append(PDF)
    for syntax, profile, format in EINVOICES if einvoices else ():
        if format in have:
            continue
        # Each is built on the event loop (up to ~45 ms for 500 lines): let requests in between.
        await asyncio.sleep(0)
        try:
            xml = build_einvoice(kind, data, syntax, profile)
        except Unprocessable:
            continue
        await store.put(database, kind.type, id, format, xml, number=data["number"])
        stored.append(format)
    return stored


async def pdf_response(request: Request, kind: Kind, id: str, *, inline: bool = False) -> Response:
    """The stored PDF (rendered and stored on the first request), with its ETag; 304 when
    If-None-Match names it."""
    database = context.database(request)
    tags = serving.if_none_match(request)
    if tags:
        known = await store.find_sha256(database, id, PDF)
        if known is not None and serving.matches(tags, known):
            return serving.not_modified(known)
    settings: Settings = request.app.state.settings
    pdf = await stored_pdf(database, kind, id, settings, renderer_for(request))
    if tags and serving.matches(tags, pdf.sha256):
        return serving.not_modified(pdf.sha256)
    return serving.document_response(
        pdf.content,
        pdf.sha256,
        media_type="application/pdf",
        filename=attachment_filename(pdf.number, credit_note=kind.type == "credit_note"),
        inline=inline,
    )


async def send(request: Request, kind: Kind, id: str, to: str | None) -> tuple[dict[str, Any], str]:
    """Email the document with its stored PDF (stored first when it is not yet); only after the
    server accepted it is the mail recorded."""
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
    pdf = await stored_pdf(database, kind, id, settings, renderer_for(request))
    message = compose_invoice_email(
        document, pdf.content, sender=settings.mail_from, recipient=recipient
    )
    from invoicing.mail.delivery import MailDeliveryError, deliver

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
