from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.core.errors import (
    RENDER_TIMED_OUT,
    RENDERER_BUSY,
    RENDERER_FAILED,
    TOO_MANY_REQUESTS,
    UNEXPECTED_BY_ROUTE,
)
from invoicing.db.base import Connection
from invoicing.documents import delivery, serving
from invoicing.invoices import service
from invoicing.invoices.repository import Filters
from invoicing.invoices.schemas import (
    InvoiceCreate,
    InvoiceOut,
    InvoiceStatus,
    InvoiceUpdate,
    SendRequest,
)
from invoicing.invoices.service import FULLY_INVOICED, INCOMPLETE_FOR_EINVOICE, INVOICE_NOT_FOUND
from invoicing.orders.service import ORDER_NOT_FOUND
from invoicing.web import context, idempotency, metrics
from invoicing.web.bodies import parse
from invoicing.web.fastpath import hot
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

router = APIRouter(prefix="/invoices", tags=["invoices"], responses=error_responses(401))

NOT_FOUND = Says(INVOICE_NOT_FOUND, "No invoice has this id (a malformed id included)")
META_FIELDS_REFUSED: list[Said] = [
    "Validation error: metaFields is required",
    "Validation error: metaFields[0].key must be at most 40 characters",
    "Validation error: metaFields keys must be unique",
    "Validation error: metaFields must have at most 50 items",
]
# The PDF renderer's answers (invoicing.documents.lane), for the PDF and for sending it.
RENDERING: dict[int, list[Said]] = {
    429: [Says(TOO_MANY_REQUESTS, "This token already has as many renders under way as it may")],
    503: [
        Says(RENDERER_BUSY, "The renderer's queue is full; retry after Retry-After"),
        Says(RENDERER_FAILED, "The render process failed; retry"),
    ],
    504: [Says(RENDER_TIMED_OUT, "The document took longer than the render time limit")],
}
SEND_REFUSED: list[Said] = [
    "Validation error: to is required: the customer has no email address",
    Says(
        "Validation error: The recipient is not a valid email address: An email address must "
        "have an @-sign.",
        "to is not a valid email address",
    ),
    "Validation error: Give exactly one recipient address",
    "Validation error: to must be at most 320 characters",
]


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[InvoiceOut],
    responses=error_responses(
        messages={
            400: [
                "Validation error: orderId is required",
                "Validation error: orderId must be a string",
                "Validation error: lineItems must have at least 1 item(s)",
                "Validation error: lineItems[0].quantity must be greater than 0",
                Says(
                    "Validation error: lineItems[0].lineItemId 6932f96b8cd64c28a4fb5876 is not a "
                    "line item of this order",
                    "A lineItemId that is not a line of the order",
                ),
                Says(
                    "Validation error: lineItems[0].quantity 40 exceeds the 30 left to invoice on "
                    "line item 6932f96b8cd64c28a4fb5876",
                    "More than is left to invoice on a line",
                ),
                Says(
                    "Validation error: lineItems[1].lineItemId 6932f96b8cd64c28a4fb5876 is listed "
                    "more than once",
                    "A line named twice",
                ),
                "Validation error: dueDate and paymentTermsDays cannot both be given",
                "Validation error: dueDate must not be before the issue date 2026-03-01",
                "Validation error: paymentTermsDays must be at most 365",
            ],
            404: [Says(ORDER_NOT_FOUND, "No order has this id (a malformed id included)")],
            409: [
                Says(
                    FULLY_INVOICED,
                    "Nothing is left to invoice (`errors` names the invoices)",
                )
            ],
            422: [
                Says(
                    INCOMPLETE_FOR_EINVOICE,
                    "INVOICING_REQUIRE_EINVOICE is on and EN 16931 data is missing",
                )
            ],
            500: [Says(UNEXPECTED_BY_ROUTE["create_invoice"], "Anything unexpected")],
        }
    ),
    openapi_extra=body(InvoiceCreate, idempotent=True),
    summary="Create an invoice from an order",
    description="Invoices an order: without `lineItems`, every quantity of it not invoiced yet; "
    "with `lineItems`, only the quantities named (each at most what is left on its line). An "
    "order is never invoiced beyond what was ordered, even under concurrent requests. The "
    "invoice gets the next number of a gapless series (`entityId`, `number`), copies of the "
    "seller profile and the order's customer, an `issueDate` (today) and a `dueDate` (from "
    "`dueDate`, `paymentTermsDays`, or the seller's payment terms). Amounts are exact decimals "
    "rounded half up to the currency's minor unit; when an order is invoiced in parts, each "
    "invoice's amounts round cumulatively, so that the invoices of an order always add up "
    "exactly to the order. Its lines, totals and number never change afterwards. With "
    "INVOICING_REQUIRE_EINVOICE=true, an invoice that would lack what an EN 16931 e-invoice "
    "needs is refused (422, `errors` naming each field) and takes no number. Send an "
    "`Idempotency-Key` to retry safely. Any access token.",
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
    "/{invoice_id}",
    response_model=Envelope[InvoiceOut],
    responses=error_responses(
        messages={
            404: [NOT_FOUND],
            500: [Says(UNEXPECTED_BY_ROUTE["get_invoice"], "Anything unexpected")],
        }
    ),
    summary="Get an invoice",
    description="The invoice as it was issued, with what happened since: its `payments`, "
    "`paidTotal`, `creditedTotal`, `amountDue` (total - creditedTotal - paidTotal), `status` "
    "(`open`, `partially_paid`, `paid` or `credited`), `overdue`, and the mails sent. Any "
    "access token.",
)
@hot
async def get_invoice(request: Request, invoice_id: str) -> Response:
    async with context.database(request).read() as connection:
        invoice = await service.get(connection, invoice_id, request.app.state.settings)
    return json_response(success_body(invoice))


@router.get(
    "",
    response_model=ListEnvelope[InvoiceOut],
    summary="List invoices",
    description="Invoices, newest first, filtered by `orderId`, `status`, `number` (the "
    "printed number: finds one) and `overdue`. Pages hold up to `limit` invoices (1 to 100, "
    "default 20); pass `nextCursor` as `cursor` for the next page until it is null. Any access "
    "token.",
)
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
    responses=error_responses(messages={400: META_FIELDS_REFUSED, 404: [NOT_FOUND]}),
    openapi_extra=body(InvoiceUpdate),
    summary="Replace an invoice's metaFields",
    description="Replaces the invoice's `metaFields` with those sent and bumps `updatedAt`. "
    "Nothing else of an issued invoice ever changes: to correct its content, create a credit "
    "note. Any access token.",
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
        **serving.openapi_responses("application/pdf", {"type": "string", "format": "binary"}),
        **error_responses(messages={404: [NOT_FOUND], **RENDERING}),
    },
    openapi_extra=serving.CONDITIONAL,
    summary="Download an invoice as PDF",
    description="The invoice as a PDF (`application/pdf`, as the attachment "
    "`invoice-<number>.pdf`). When its data is complete for EN 16931, it is a PDF/A-3b with "
    "the CII e-invoice embedded as `factur-x.xml` (Factur-X, EN 16931 profile); otherwise a "
    "plain PDF. It shows the invoice as issued (payments and credit notes booked since are in "
    "`GET /invoices/{id}`). Made once, on the first request or send or ahead of time, and "
    "stored: every answer has the same bytes, with `ETag` (their SHA-256) and 304 for a "
    "matching `If-None-Match`. A first render is queued: a busy renderer answers 503 or 429 "
    "with `Retry-After`. Any access token.",
)
@hot
async def get_invoice_pdf(request: Request, invoice_id: str) -> Response:
    return await delivery.pdf_response(request, delivery.INVOICES, invoice_id)


@router.post(
    "/{invoice_id}/send",
    response_model=CreatedEnvelope[InvoiceOut],
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
                    delivery.INVOICES.send_failed,
                    "The mail server refused the mail or could not be reached",
                )
            ],
        }
    ),
    openapi_extra=body(SendRequest),
    summary="Email an invoice with its PDF",
    description="Emails the invoice, its PDF attached, to `to` or, with `{}`, to the order's "
    "customer email, and appends `{sentTo, sentAt}` to `mailsSent` once the mail server "
    "accepted it (nothing is recorded when it did not: 502). At most "
    "INVOICING_INVOICE_SENDS_PER_HOUR sends per invoice in any hour (default 10; 429 past it). "
    "Any access token.",
)
async def send_invoice(request: Request, invoice_id: str) -> Response:
    payload = await parse(request, SendRequest)
    invoice, recipient = await delivery.send(request, delivery.INVOICES, invoice_id, payload.to)
    return json_response(success_body(invoice, message=f"Invoice sent to {recipient}"))
