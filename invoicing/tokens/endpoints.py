from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import Admin
from invoicing.tokens import service
from invoicing.tokens.schemas import NewTokenOut, TokenCreate, TokenOut
from invoicing.tokens.service import TOKEN_NOT_FOUND
from invoicing.web import context
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import json_response, success_body
from invoicing.web.schemas import CreatedEnvelope, Envelope, Says, error_responses

router = APIRouter(prefix="/tokens", tags=["tokens"], responses=error_responses(401, 403))


@router.post(
    "",
    status_code=201,
    response_model=CreatedEnvelope[NewTokenOut],
    responses=error_responses(
        messages={
            400: [
                "Validation error: name is required",
                "Validation error: name must be at most 200 characters",
                "Validation error: name must not contain control characters",
                "Validation error: type must be one of 'admin' or 'api'",
            ]
        }
    ),
    openapi_extra=body(TokenCreate),
    summary="Create an access token",
    description="Creates an `api` token (orders, invoices, payments, credit notes, e-invoices, "
    "reading the seller) or an `admin` token (also tokens, webhooks and the seller profile). "
    "The response holds the secret in `token`: it is shown only this once, the service keeps "
    "only its hash. Send it as `accessToken: <token>` or `Authorization: Bearer <token>`. "
    "Admin token only.",
)
async def create_token(request: Request, caller: Admin) -> Response:
    payload = await parse(request, TokenCreate)
    async with context.database(request).write() as connection:
        token, secret = await service.create(connection, payload.name, payload.type)
    return json_response(
        success_body({**token, "token": secret}, message="Token created successfully"), 201
    )


@router.get(
    "",
    response_model=Envelope[list[TokenOut]],
    summary="List access tokens",
    description="Every token's id, name, type and dates (never a secret); revoked ones only "
    "with `include_revoked=true`. Admin token only.",
)
async def list_tokens(request: Request, caller: Admin, include_revoked: bool = False) -> Response:
    async with context.database(request).read() as connection:
        tokens = await service.list_tokens(connection, include_revoked=include_revoked)
    return json_response(success_body(tokens))


@router.delete(
    "/{token_id}",
    response_model=CreatedEnvelope[TokenOut],
    responses=error_responses(
        messages={404: [Says(TOKEN_NOT_FOUND, "No token has this id (a malformed id included)")]}
    ),
    summary="Revoke an access token",
    description="Revokes the token at once: every request with it then gets 401, and console "
    "sessions signed in with it end. Revoking a revoked token changes nothing. What it created "
    "keeps its `createdBy`. Admin token only.",
)
async def revoke_token(request: Request, caller: Admin, token_id: str) -> Response:
    async with context.database(request).write() as connection:
        token = await service.revoke(connection, token_id)
    return json_response(success_body(token, message="Token revoked"))
