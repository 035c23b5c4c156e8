from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import Admin
from invoicing.tokens import service
from invoicing.tokens.schemas import NewTokenOut, TokenCreate, TokenOut
from invoicing.web import context
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, error_responses

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=error_responses(401, 403))


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[NewTokenOut],
    responses=error_responses(400, 415),
    openapi_extra=body(TokenCreate),
)
async def create_token(request: Request, caller: Admin) -> Response:
    payload = await parse(request, TokenCreate)
    async with context.database(request).write() as connection:
        token, secret = await service.create(connection, payload.name, payload.type)
    return json_response(
        success_body({**token, "token": secret}, message="Token created successfully"), 201
    )


@router.get("", response_model=Envelope[list[TokenOut]])
async def list_tokens(request: Request, caller: Admin, include_revoked: bool = False) -> Response:
    async with context.database(request).read() as connection:
        tokens = await service.list_tokens(connection, include_revoked=include_revoked)
    return json_response(success_body(tokens))


@router.delete(
    "/{token_id}", response_model=CreatedEnvelope[TokenOut], responses=error_responses(404)
)
async def revoke_token(request: Request, caller: Admin, token_id: str) -> Response:
    async with context.database(request).write() as connection:
        token = await service.revoke(connection, token_id)
    return json_response(success_body(token, message="Token revoked"))
