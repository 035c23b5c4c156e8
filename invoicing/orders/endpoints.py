from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.db.base import Connection
from invoicing.orders import service
from invoicing.orders.schemas import OrderCreate, OrderOut, OrderStatus
from invoicing.web import context, idempotency
from invoicing.web.bodies import parse
from invoicing.web.fastpath import hot
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, ListEnvelope, error_responses

router = APIRouter(prefix="/orders", tags=["orders"], responses=error_responses(401))


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[OrderOut],
    responses=error_responses(400, 409, 413, 415),
    openapi_extra=body(OrderCreate, idempotent=True),
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


@router.get("/{order_id}", response_model=Envelope[OrderOut], responses=error_responses(404))
@hot
async def get_order(request: Request, order_id: str) -> Response:
    async with context.database(request).read() as connection:
        order = await service.get(connection, order_id)
    return json_response(success_body(order))


@router.get("", response_model=ListEnvelope[OrderOut], responses=error_responses(400))
async def list_orders(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: str | None = None,
    status: OrderStatus | None = None,
) -> Response:
    async with context.database(request).read() as connection:
        page = await service.list_page(connection, limit, cursor, status)
    return json_response(page)
