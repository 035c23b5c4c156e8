from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import Admin
from invoicing.seller import service
from invoicing.seller.schemas import SellerIn, SellerOut
from invoicing.web import context
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, error_responses

router = APIRouter(prefix="/seller", tags=["seller"], responses=error_responses(401))


@router.get("", response_model=Envelope[SellerOut])
async def get_seller(request: Request) -> Response:
    async with context.database(request).read() as connection:
        seller = await service.current(connection, request.app.state.settings)
    return json_response(success_body(seller))


@router.put(
    "",
    response_model=CreatedEnvelope[SellerOut],
    responses=error_responses(400, 403, 413, 415),
    openapi_extra=body(SellerIn),
)
async def replace_seller(request: Request, caller: Admin) -> Response:
    payload = await parse(request, SellerIn)
    async with context.database(request).write() as connection:
        seller = await service.replace(connection, payload)
    return json_response(success_body(seller, message="Seller profile updated"))
