from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.core.money import MAX_AMOUNT
from invoicing.db.base import Connection
from invoicing.orders import service
from invoicing.orders.schemas import OrderCreate, OrderOut, OrderStatus
from invoicing.orders.service import ORDER_NOT_FOUND
from invoicing.web import context, idempotency
from invoicing.web.bodies import parse
from invoicing.web.fastpath import hot
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, ListEnvelope, Says, error_responses

router = APIRouter(prefix="/orders", tags=["orders"], responses=error_responses(401))


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[OrderOut],
    responses=error_responses(
        messages={
            400: [
                "Validation error: customer is required",
                "Validation error: customer.name is required",
                "Validation error: customer.email must be a valid email address",
                "Validation error: currency must be an ISO 4217 currency code such as USD",
                "Validation error: lineItems is required",
                "Validation error: lineItems must have at least 1 item(s)",
                "Validation error: lineItems must have at most 500 items",
                "Validation error: lineItems[0].quantity must be greater than 0",
                "Validation error: lineItems[0].unitPrice must have at most 4 decimals",
                "Validation error: lineItems[0].taxRate must be above 0 for category S",
                Says(
                    "Validation error: lineItems[0].exemptionReason or exemptionReasonCode is "
                    "required for category E",
                    "An exempt line without its exemption reason",
                ),
                "Validation error: metaFields keys must be unique",
                Says(
                    f"Validation error: lineItems: the order total must be below {MAX_AMOUNT:f}",
                    "The order's total is too large",
                ),
            ]
        }
    ),
    openapi_extra=body(OrderCreate, idempotent=True),
    summary="Create an order",
    description="Records what a customer bought; invoices are then made from it with "
    "`POST /invoices`. Each line's net `amount` is round(quantity * unitPrice) in the order's "
    "currency (half up, to its minor unit), tax is computed once per (taxCategory, taxRate) "
    "group, and `total` = `subtotal` + `taxTotal`, all in exact decimals. `customer.name` and 1 "
    "to 500 `lineItems` are required; the customer's address, VAT id, electronic address and "
    "the lines' tax categories matter only for e-invoices. Send an `Idempotency-Key` to retry "
    "safely: the same key and body within 24 hours returns the first order instead of a second "
    "one. Any access token.",
)
@hot
async def create_order(request: Request) -> Response:
    payload = await parse(request, OrderCreate)
    caller = principal(request)
    currency = request.app.state.settings.default_currency

    async def create(connection: Connection) -> bytes:
        order = await service.create(connection, caller, payload, currency)
        return success_body(order, message="Order created successfully")

    return await idempotency.run(request, create)


@router.get(
    "/{order_id}",
    response_model=Envelope[OrderOut],
    responses=error_responses(
        messages={404: [Says(ORDER_NOT_FOUND, "No order has this id (a malformed id included)")]}
    ),
    summary="Get an order",
    description="The order with its lines, each line's `invoicedQuantity` (net of credit "
    "notes) and the order's `status`: `open`, `partially_invoiced` or `invoiced`. Any access "
    "token.",
)
@hot
async def get_order(request: Request, order_id: str) -> Response:
    async with context.database(request).read() as connection:
        order = await service.get(connection, order_id)
    return json_response(success_body(order))


@router.get(
    "",
    response_model=ListEnvelope[OrderOut],
    summary="List orders",
    description="Orders, newest first, optionally only those of one `status`. Pages hold up "
    "to `limit` orders (1 to 100, default 20); pass `nextCursor` as `cursor` for the next page "
    "until it is null. Paging is keyset-based: stable while orders are created. Any access token.",
)
async def list_orders(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    status: OrderStatus | None = None,
) -> Response:
    async with context.database(request).read() as connection:
        page = await service.list_page(connection, limit, cursor, status)
    return json_response(page)
