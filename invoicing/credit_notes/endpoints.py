from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.core.errors import TOO_MANY_REQUESTS
from invoicing.credit_notes import service
from invoicing.credit_notes.repository import Filters
from invoicing.credit_notes.schemas import CreditNoteCreate, CreditNoteOut, CreditNoteUpdate
from invoicing.credit_notes.service import CREDIT_NOTE_NOT_FOUND, FULLY_CREDITED
from invoicing.db.base import Connection
from invoicing.documents import delivery, serving
from invoicing.invoices.endpoints import META_FIELDS_REFUSED, RENDERING, SEND_REFUSED
from invoicing.invoices.schemas import SendRequest
from invoicing.invoices.service import INVOICE_NOT_FOUND
from invoicing.web import context, idempotency
from invoicing.web.bodies import parse
from invoicing.web.fastpath import hot
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, ListEnvelope, Says, error_responses

router = APIRouter(tags=["credit notes"], responses=error_responses(401))

NOT_FOUND = Says(CREDIT_NOTE_NOT_FOUND, "No credit note has this id (a malformed id included)")


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    status_code=201,
    response_model=CreatedEnvelope[CreditNoteOut],
    responses=error_responses(
        messages={
            400: [
                "Validation error: reason is required",
                "Validation error: reason must not be blank",
                "Validation error: reason must be at most 500 characters",
                Says(
                    "Validation error: lineItems[0].invoiceLineId 6932f96b8cd64c28a4fb5876 is "
                    "not a line of this invoice",
                    "An invoiceLineId that is not a line of the invoice",
                ),
                "Validation error: lineItems must have at least 1 item(s)",
                "Validation error: lineItems[0].quantity must be greater than 0",
                Says(
                    "Validation error: lineItems[0].quantity 3 exceeds the 2 left to credit on "
                    "invoice line 693738682fa9114d9af87d2a",
                    "More than is left to credit on a line",
                ),
                Says(
                    "Validation error: lineItems[1].invoiceLineId 693738682fa9114d9af87d2a is "
                    "listed more than once",
                    "A line named twice",
                ),
            ],
            404: [Says(INVOICE_NOT_FOUND, "No invoice has this id (a malformed id included)")],
            409: [Says(FULLY_CREDITED, "Nothing of the invoice is left to credit")],
        }
    ),
    openapi_extra=body(CreditNoteCreate, idempotent=True),
    summary="Credit an invoice, in whole or in part",
    description="Issues a credit note against the invoice: without `lineItems`, everything of "
    "it not credited yet; with `lineItems`, the quantities named by invoice line. `reason` is "
    "required. Amounts are positive and round cumulatively within the invoice, so that "
    "crediting all of it, at once or in parts, gives back exactly its amounts and never more. "
    "The credited quantities go back to the order (to be invoiced again if need be), and the "
    "invoice's `creditedTotal`, `amountDue` and `status` follow. Credit notes have a gapless "
    "number series of their own (default `CN-1`, `CN-2`, ...). Send an `Idempotency-Key` to "
    "retry safely. Any access token.",
)
async def create_credit_note(request: Request, invoice_id: str) -> Response:
    payload = await parse(request, CreditNoteCreate)
    caller = principal(request)
    settings = request.app.state.settings

    async def create(connection: Connection) -> bytes:
        note = await service.create(connection, caller, invoice_id, payload, settings)
        return success_body(note, message="Credit note created successfully")

    return await idempotency.run(request, create)


@router.get(
    "/credit-notes/{credit_note_id}",
    response_model=Envelope[CreditNoteOut],
    responses=error_responses(messages={404: [NOT_FOUND]}),
    summary="Get a credit note",
    description="The credit note as it was issued, with the invoice it corrects (`invoice`, "
    "`invoiceNumber`) and the mails sent. Any access token.",
)
async def get_credit_note(request: Request, credit_note_id: str) -> Response:
    async with context.database(request).read() as connection:
        note = await service.get(connection, credit_note_id)
    return json_response(success_body(note))


@router.get(
    "/credit-notes",
    response_model=ListEnvelope[CreditNoteOut],
    summary="List credit notes",
    description="Credit notes, newest first, filtered by `invoiceId` or `orderId`. Pages hold "
    "up to `limit` credit notes (1 to 100, default 20); pass `nextCursor` as `cursor` for the "
    "next page until it is null. Any access token.",
)
async def list_credit_notes(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    invoiceId: str | None = None,
    orderId: str | None = None,
) -> Response:
    filters = Filters(invoice_id=invoiceId, order_id=orderId)
    async with context.database(request).read() as connection:
        page = await service.list_page(connection, limit, cursor, filters)
    return json_response(page)


@router.patch(
    "/credit-notes/{credit_note_id}",
    response_model=CreatedEnvelope[CreditNoteOut],
    responses=error_responses(messages={400: META_FIELDS_REFUSED, 404: [NOT_FOUND]}),
    openapi_extra=body(CreditNoteUpdate),
    summary="Replace a credit note's metaFields",
    description="Replaces the credit note's `metaFields` with those sent and bumps `updatedAt`; "
    "nothing else of it ever changes. Any access token.",
)
async def update_credit_note(request: Request, credit_note_id: str) -> Response:
    payload = await parse(request, CreditNoteUpdate)
    async with context.database(request).write() as connection:
        note = await service.update_meta_fields(connection, credit_note_id, payload.metaFields)
    return json_response(success_body(note, message="Credit note updated successfully"))


@router.get(
    "/credit-notes/{credit_note_id}/pdf",
    response_class=Response,
    responses={
        **serving.openapi_responses("application/pdf", {"type": "string", "format": "binary"}),
        **error_responses(messages={404: [NOT_FOUND], **RENDERING}),
    },
    openapi_extra=serving.CONDITIONAL,
    summary="Download a credit note as PDF",
    description="The credit note as a PDF (`application/pdf`, as the attachment "
    "`credit-note-<number>.pdf`); a Factur-X PDF/A-3b embedding its CII when its data is "
    "complete for EN 16931, otherwise a plain PDF. Stored once, as for invoices: the same "
    "bytes on every answer, `ETag` and 304 for a matching `If-None-Match`. A busy renderer "
    "answers 503 or 429 with `Retry-After`. Any access token.",
)
@hot
async def get_credit_note_pdf(request: Request, credit_note_id: str) -> Response:
    return await delivery.pdf_response(request, delivery.CREDIT_NOTES, credit_note_id)


@router.post(
    "/credit-notes/{credit_note_id}/send",
    response_model=CreatedEnvelope[CreditNoteOut],
    responses=error_responses(
        messages={
            400: SEND_REFUSED,
            404: [NOT_FOUND],
            **RENDERING,
            429: [
                Says(
                    TOO_MANY_REQUESTS,
                    "Sent too often this hour, or too many renders under way",
                )
            ],
            502: [
                Says(
                    delivery.CREDIT_NOTES.send_failed,
                    "The mail server refused the mail or could not be reached",
                )
            ],
        }
    ),
    openapi_extra=body(SendRequest),
    summary="Email a credit note with its PDF",
    description="Emails the credit note, its PDF attached, to `to` or, with `{}`, to the "
    "customer's email, and appends `{sentTo, sentAt}` to `mailsSent` once the mail server "
    "accepted it (nothing is recorded when it did not: 502). Sends are limited per hour like "
    "invoices' (429 past it). Any access token.",
)
async def send_credit_note(request: Request, credit_note_id: str) -> Response:
    payload = await parse(request, SendRequest)
    note, recipient = await delivery.send(
        request, delivery.CREDIT_NOTES, credit_note_id, payload.to
    )
    return json_response(success_body(note, message=f"Credit note sent to {recipient}"))
