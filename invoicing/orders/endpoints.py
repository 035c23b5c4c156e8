from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing import context, idempotency
from invoicing.http import json_bytes, ok, ok_page
from invoicing.openapi import body
from invoicing.orders import service
from invoicing.orders.schemas import OrderCreate, OrderOut, OrderStatus
from invoicing.schemas import CreatedEnvelope, Envelope, ListEnvelope, error_responses

router = APIRouter(prefix="/orders", tags=["orders"], responses=error_responses(401))


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[OrderOut],
    responses=error_responses(400, 409, 413, 415),
    openapi_extra=body(OrderCreate, idempotent=True),
)
async def create_order(request: Request) -> Response:
    payload, request_hash = await idempotency.parse(request, OrderCreate)
    caller = context.principal(request)
    currency = request.app.state.settings.default_currency

    async def create(connection: idempotency.Connection) -> bytes:
        order = await service.create(connection, caller, payload, currency)
        return ok(order, message="Order created successfully")

    return await idempotency.run(request, request_hash, create)


@router.get("/{order_id}", response_model=Envelope[OrderOut], responses=error_responses(404))
async def get_order(request: Request, order_id: str) -> Response:
    async with context.database(request).read() as connection:
        order = await service.get(connection, order_id)
    return json_bytes(ok(order))


@router.get("", response_model=ListEnvelope[OrderOut], responses=error_responses(400))
async def list_orders(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    status: OrderStatus | None = None,
) -> Response:
    async with context.database(request).read() as connection:
        orders, next_cursor = await service.list_page(connection, limit, cursor, status)
    return json_bytes(ok_page(orders, next_cursor))
