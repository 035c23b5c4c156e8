"""Invoices: find them; see one with its PDF; send it, record a payment, issue a credit note,
download its PDF and e-invoices."""

from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.console import forms
from invoicing.console.common import (
    PAGE_SIZE,
    done,
    exact,
    first_submission,
    new_form_key,
    notice_of,
    page_items,
)
from invoicing.console.render import page
from invoicing.console.routing import Console, console_router
from invoicing.core.errors import AppError, ValidationFailed
from invoicing.core.money import number
from invoicing.credit_notes import repository as credit_note_rows
from invoicing.credit_notes import service as credit_notes
from invoicing.credit_notes.schemas import CreditNoteCreate
from invoicing.documents import delivery
from invoicing.einvoice.endpoints import einvoice_response
from invoicing.invoices import repository as invoice_rows
from invoicing.invoices import service as invoices
from invoicing.invoices.repository import Filters
from invoicing.payments import service as payments
from invoicing.payments.schemas import PaymentCreate
from invoicing.web import context
from invoicing.web.pagination import FIRST_PAGE

router = console_router()
STATUSES = ("open", "partially_paid", "paid", "credited")


@router.get("/invoices")
async def invoice_list(
    request: Request,
    session: Console,
    q: Annotated[str, Query(max_length=200)] = "",
    status: Literal["", "open", "partially_paid", "paid", "credited"] = "",
    overdue: Literal["", "true", "false"] = "",
    cursor: str | None = None,
) -> Response:
    """`q`: an invoice number (exactly), else any text of the customer's."""
    settings = request.app.state.settings
    text = q.strip()
    filters = Filters(status=status or None, overdue={"true": True, "false": False}.get(overdue))
    async with context.database(request).read() as connection:
        found: list[dict[str, Any]] = []
        next_cursor = None
        if text and cursor is None:
            by_number = Filters(number=text, status=filters.status, overdue=filters.overdue)
            found, _ = page_items(
                await invoices.list_page(connection, settings, PAGE_SIZE, None, by_number)
            )
        if not found:
            if text:
                filters = Filters(status=filters.status, overdue=filters.overdue, customer=text)
            found, next_cursor = page_items(
                await invoices.list_page(connection, settings, PAGE_SIZE, cursor, filters)
            )
    values = {"q": text, "status": status, "overdue": overdue}
    return page(
        request,
        "invoices.html",
        session,
        invoices=found,
        next_cursor=next_cursor,
        values=values,
        statuses=STATUSES,
        filtered=any(values.values()),
    )


async def _detail(
    request: Request,
    session: Any,
    invoice_id: str,
    *,
    errors: dict[str, str] | None = None,
    form: forms.Form | None = None,
    status: int = 200,
) -> Response:
    settings = request.app.state.settings
    async with context.database(request).read() as connection:
        invoice = exact(await invoices.get(connection, invoice_id, settings))
        notes = await credit_note_rows.page(
            connection, FIRST_PAGE, 100, credit_note_rows.Filters(invoice_id=invoice["id"])
        )
        left_to_credit = {
            line["id"]: number(Decimal(line["quantity"]) - Decimal(line["credited_quantity"]))
            for line in await invoice_rows.lines(connection, invoice["id"])
        }
    return page(
        request,
        "invoice.html",
        session,
        status=status,
        invoice=invoice,
        credit_notes=notes,
        left_to_credit=left_to_credit,
        errors=errors or {},
        form=form,
        key=new_form_key(),
        notice=notice_of(request),
    )


@router.get("/invoices/{invoice_id}")
async def invoice_detail(request: Request, session: Console, invoice_id: str) -> Response:
    return await _detail(request, session, invoice_id)


@router.get("/invoices/{invoice_id}/pdf")
async def invoice_pdf(
    request: Request, session: Console, invoice_id: str, inline: bool = False
) -> Response:
    return await delivery.pdf_response(request, delivery.INVOICES, invoice_id, inline=inline)


@router.get("/invoices/{invoice_id}/{syntax}")
async def invoice_einvoice(
    request: Request, session: Console, invoice_id: str, syntax: Literal["ubl", "cii"]
) -> Response:
    if syntax == "ubl":
        return await einvoice_response(request, delivery.INVOICES, invoice_id, syntax, "peppol")
    return await einvoice_response(request, delivery.INVOICES, invoice_id, syntax, "en16931")


@router.post("/invoices/{invoice_id}/send")
async def send_invoice(request: Request, session: Console, invoice_id: str) -> Response:
    form = await forms.read(request, session.csrf)
    try:
        _, recipient = await delivery.send(
            request, delivery.INVOICES, invoice_id, form.optional("to")
        )
    except AppError as error:
        return await _detail(
            request, session, invoice_id, errors=_in(error, "send"), form=form, status=error.status
        )
    return done(f"/admin/invoices/{invoice_id}", f"Invoice sent to {recipient}")


@router.post("/invoices/{invoice_id}/payments")
async def record_payment(request: Request, session: Console, invoice_id: str) -> Response:
    form = await forms.read(request, session.csrf)
    settings = request.app.state.settings
    try:
        payload = forms.validate(
            PaymentCreate,
            {
                "amount": forms.number(form["amount"]),
                "paidAt": form.optional("paidAt"),
                "method": form.optional("method"),
                "reference": form.optional("reference"),
            },
        )
        async with context.database(request).write() as connection:
            if await first_submission(connection, session, form):
                await payments.create(connection, session.principal, invoice_id, payload, settings)
    except AppError as error:
        return await _detail(
            request,
            session,
            invoice_id,
            errors=_in(error, "payment"),
            form=form,
            status=error.status,
        )
    return done(f"/admin/invoices/{invoice_id}", "Payment recorded")


@router.post("/invoices/{invoice_id}/credit-notes")
async def issue_credit_note(request: Request, session: Console, invoice_id: str) -> Response:
    form = await forms.read(request, session.csrf)
    settings = request.app.state.settings
    lines = [
        {"invoiceLineId": name.removeprefix("credit-"), "quantity": forms.number(value)}
        for name, value in form.pairs
        if name.startswith("credit-") and value.strip() not in ("", "0")
    ]
    try:
        if not lines:
            raise ValidationFailed.on("lineItems", "give a quantity to credit on a line")
        payload = forms.validate(CreditNoteCreate, {"reason": form["reason"], "lineItems": lines})
        async with context.database(request).write() as connection:
            note = None
            if await first_submission(connection, session, form):
                note = await credit_notes.create(
                    connection, session.principal, invoice_id, payload, settings
                )
    except AppError as error:
        return await _detail(
            request,
            session,
            invoice_id,
            errors=_in(error, "credit"),
            form=form,
            status=error.status,
        )
    if note is None:
        return done(f"/admin/invoices/{invoice_id}", "Already submitted")
    return done(f"/admin/credit-notes/{note['id']}", "Credit note created")


def _in(error: AppError, action: str) -> dict[str, str]:
    """The error's fields, named as the action's form names them (`payment.amount`)."""
    found = forms.errors_of(error)
    return {(f"{action}.{k}" if k else ""): v for k, v in found.items()}
