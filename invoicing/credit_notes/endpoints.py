from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.credit_notes import service
from invoicing.credit_notes.repository import Filters
from invoicing.credit_notes.schemas import CreditNoteCreate, CreditNoteOut, CreditNoteUpdate
from invoicing.db.base import Connection
from invoicing.documents import delivery
from invoicing.invoices.schemas import SendRequest
from invoicing.web import context, idempotency
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, ListEnvelope, error_responses

router = APIRouter(tags=["credit notes"], responses=error_responses(401))


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    status_code=201,
    response_model=CreatedEnvelope[CreditNoteOut],
    responses=error_responses(400, 404, 409, 413, 415),
    openapi_extra=body(CreditNoteCreate, idempotent=True),
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
    responses=error_responses(404),
)
async def get_credit_note(request: Request, credit_note_id: str) -> Response:
    async with context.database(request).read() as connection:
        note = await service.get(connection, credit_note_id)
    return json_response(success_body(note))


@router.get(
    "/credit-notes", response_model=ListEnvelope[CreditNoteOut], responses=error_responses(400)
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
    responses=error_responses(400, 404, 413, 415),
    openapi_extra=body(CreditNoteUpdate),
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
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(404, 429, 503, 504),
    },
)
async def get_credit_note_pdf(request: Request, credit_note_id: str) -> Response:
    return await delivery.pdf_response(request, delivery.CREDIT_NOTES, credit_note_id)


@router.post(
    "/credit-notes/{credit_note_id}/send",
    response_model=CreatedEnvelope[CreditNoteOut],
    responses=error_responses(400, 404, 413, 415, 429, 502, 503, 504),
    openapi_extra=body(SendRequest),
)
async def send_credit_note(request: Request, credit_note_id: str) -> Response:
    payload = await parse(request, SendRequest)
    note, recipient = await delivery.send(
        request, delivery.CREDIT_NOTES, credit_note_id, payload.to
    )
    return json_response(success_body(note, message=f"Credit note sent to {recipient}"))
