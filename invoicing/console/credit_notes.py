"""Credit notes: find them; see one with its PDF; send it, download its PDF and e-invoices.
They are issued from their invoice's page."""

from typing import Literal

from starlette.requests import Request
from starlette.responses import Response

from invoicing.console import forms
from invoicing.console.common import PAGE_SIZE, done, exact, notice_of, page_items
from invoicing.console.render import page
from invoicing.console.routing import Console, console_router
from invoicing.console.sessions import Session
from invoicing.core.errors import AppError
from invoicing.credit_notes import service as credit_notes
from invoicing.credit_notes.repository import Filters
from invoicing.documents import delivery
from invoicing.einvoice.endpoints import einvoice_response
from invoicing.einvoice.terms import Profile
from invoicing.web import context

router = console_router()


@router.get("/credit-notes")
async def credit_note_list(
    request: Request, session: Console, cursor: str | None = None
) -> Response:
    async with context.database(request).read() as connection:
        found, next_cursor = page_items(
            await credit_notes.list_page(connection, PAGE_SIZE, cursor, Filters())
        )
    return page(
        request,
        "credit_notes.html",
        session,
        credit_notes=found,
        next_cursor=next_cursor,
        values={},
        notice=notice_of(request),
    )


async def _detail(
    request: Request,
    session: Session,
    credit_note_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    status: int = 200,
) -> Response:
    async with context.database(request).read() as connection:
        note = exact(await credit_notes.get(connection, credit_note_id))
    return page(
        request,
        "credit_note.html",
        session,
        status=status,
        note=note,
        errors=errors or {},
        form=form,
        notice=notice_of(request),
    )


@router.get("/credit-notes/{credit_note_id}")
async def credit_note_detail(request: Request, session: Console, credit_note_id: str) -> Response:
    return await _detail(request, session, credit_note_id)


@router.get("/credit-notes/{credit_note_id}/pdf")
async def credit_note_pdf(
    request: Request, session: Console, credit_note_id: str, inline: bool = False
) -> Response:
    return await delivery.pdf_response(
        request, delivery.CREDIT_NOTES, credit_note_id, inline=inline
    )


@router.get("/credit-notes/{credit_note_id}/{syntax}")
async def credit_note_einvoice(
    request: Request, session: Console, credit_note_id: str, syntax: Literal["ubl", "cii"]
) -> Response:
    profile: Profile = "peppol" if syntax == "ubl" else "en16931"
    return await einvoice_response(request, delivery.CREDIT_NOTES, credit_note_id, syntax, profile)


@router.post("/credit-notes/{credit_note_id}/send")
async def send_credit_note(request: Request, session: Console, credit_note_id: str) -> Response:
    form = await forms.read(request, session.csrf)
    try:
        _, recipient = await delivery.send(
            request, delivery.CREDIT_NOTES, credit_note_id, form.optional("to")
        )
    except AppError as error:
        errors = {f"send.{k}" if k else "": v for k, v in forms.errors_of(error).items()}
        return await _detail(
            request, session, credit_note_id, errors=errors, form=form, status=error.status
        )
    return done(f"/admin/credit-notes/{credit_note_id}", f"Credit note sent to {recipient}")
