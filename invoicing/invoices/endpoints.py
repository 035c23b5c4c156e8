from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.db.base import Connection
from invoicing.documents import delivery
from invoicing.invoices import service
from invoicing.invoices.repository import Filters
from invoicing.invoices.schemas import (
    InvoiceCreate,
    InvoiceOut,
    InvoiceStatus,
    InvoiceUpdate,
    SendRequest,
)
from invoicing.web import context, idempotency, metrics
from invoicing.web.bodies import parse
from invoicing.web.fastpath import hot
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, ListEnvelope, error_responses

router = APIRouter(prefix="/invoices", tags=["invoices"], responses=error_responses(401))


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[InvoiceOut],
    responses=error_responses(400, 404, 409, 413, 415, 422, 500),
    openapi_extra=body(InvoiceCreate, idempotent=True),
)
@hot
async def create_invoice(request: Request) -> Response:
    payload = await parse(request, InvoiceCreate)
    caller = principal(request)

    settings = request.app.state.settings

    async def create(connection: Connection) -> bytes:
        invoice = await service.create(connection, caller, payload, settings)
        return success_body(invoice, message="Invoice created successfully")

    response = await idempotency.run(request, create)
    if "idempotent-replayed" not in response.headers:
        metrics.INVOICES_CREATED.inc()
    return response


@router.get(
    "/{invoice_id}", response_model=Envelope[InvoiceOut], responses=error_responses(404, 500)
)
@hot
async def get_invoice(request: Request, invoice_id: str) -> Response:
    async with context.database(request).read() as connection:
        invoice = await service.get(connection, invoice_id, request.app.state.settings)
    return json_response(success_body(invoice))


@router.get("", response_model=ListEnvelope[InvoiceOut], responses=error_responses(400))
async def list_invoices(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    orderId: str | None = None,
    status: InvoiceStatus | None = None,
    number: Annotated[str | None, Query(max_length=100)] = None,
    overdue: bool | None = None,
) -> Response:
    filters = Filters(order_id=orderId, status=status, number=number, overdue=overdue)
    async with context.database(request).read() as connection:
        page = await service.list_page(
            connection, request.app.state.settings, limit, cursor, filters
        )
    return json_response(page)


@router.patch(
    "/{invoice_id}",
    response_model=CreatedEnvelope[InvoiceOut],
    responses=error_responses(400, 404, 413, 415),
    openapi_extra=body(InvoiceUpdate),
)
async def update_invoice(request: Request, invoice_id: str) -> Response:
    payload = await parse(request, InvoiceUpdate)
    async with context.database(request).write() as connection:
        invoice = await service.update_meta_fields(
            connection, invoice_id, payload.metaFields, request.app.state.settings
        )
    return json_response(success_body(invoice, message="Invoice updated successfully"))


@router.get(
    "/{invoice_id}/pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **error_responses(404, 429, 503, 504),
    },
)
async def get_invoice_pdf(request: Request, invoice_id: str) -> Response:
    return await delivery.pdf_response(request, delivery.INVOICES, invoice_id)


@router.post(
    "/{invoice_id}/send",
    response_model=CreatedEnvelope[InvoiceOut],
    responses=error_responses(400, 404, 413, 415, 429, 502, 503, 504),
    openapi_extra=body(SendRequest),
)
async def send_invoice(request: Request, invoice_id: str) -> Response:
    payload = await parse(request, SendRequest)
    invoice, recipient = await delivery.send(request, delivery.INVOICES, invoice_id, payload.to)
    return json_response(success_body(invoice, message=f"Invoice sent to {recipient}"))
