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
from invoicing.web.schemas import CreatedEnvelope, Envelope, Says, error_responses

router = APIRouter(prefix="/seller", tags=["seller"], responses=error_responses(401))


@router.get(
    "",
    response_model=Envelope[SellerOut],
    summary="Get the seller profile",
    description="Who issues the invoices, as new invoices and credit notes will copy it. Until "
    "a profile is saved it is INVOICING_SELLER_NAME and INVOICING_SELLER_ADDRESS from the "
    "environment, and `updatedAt` is null. Any access token.",
)
async def get_seller(request: Request) -> Response:
    async with context.database(request).read() as connection:
        seller = await service.current(connection, request.app.state.settings)
    return json_response(success_body(seller))


@router.put(
    "",
    response_model=CreatedEnvelope[SellerOut],
    responses=error_responses(
        403,
        messages={
            400: [
                "Validation error: name is required",
                "Validation error: name must not be blank",
                Says(
                    "Validation error: address.country must be an ISO 3166-1 alpha-2 country "
                    "code such as DE",
                    "address.country is not an ISO 3166-1 alpha-2 code",
                ),
                Says(
                    "Validation error: vatId must match ^[A-Z]{2}[0-9A-Za-z+*.]{1,28}$",
                    "vatId is not a VAT id with its country prefix",
                ),
                Says(
                    "Validation error: bankAccount.iban must be a valid IBAN: its check digits "
                    "do not match",
                    "bankAccount.iban fails its check digits",
                ),
                Says(
                    "Validation error: bankAccount.iban must be a valid IBAN: its length does "
                    "not match its country's",
                    "bankAccount.iban is too short or too long",
                ),
                Says(
                    "Validation error: bankAccount.iban must be a valid IBAN: its format does "
                    "not match its country's",
                    "bankAccount.iban does not have its country's format",
                ),
                Says(
                    "Validation error: bankAccount.iban must be a valid IBAN: its country code is "
                    "unknown",
                    "bankAccount.iban starts with no known country code",
                ),
                Says(
                    "Validation error: bankAccount.bic must be a valid BIC of 8 or 11 characters, "
                    "such as COBADEFFXXX",
                    "bankAccount.bic is not a BIC",
                ),
                "Validation error: paymentTermsDays must be at most 365",
            ]
        },
    ),
    openapi_extra=body(SellerIn),
    summary="Replace the seller profile",
    description="Replaces the whole profile (fields left out take their defaults): name, "
    "address, VAT and registration ids, contact, electronic address, bank account and default "
    "payment terms. Invoices and credit notes issued before keep the copy they were issued "
    "with; only new ones use the new profile. What e-invoices need (a postal address with its "
    "country, a VAT id, an electronic address for Peppol, a contact and a bank account for "
    "XRechnung) is optional here and checked when an e-invoice is asked for. An IBAN must pass "
    "its check digits. Admin token only.",
)
async def replace_seller(request: Request, caller: Admin) -> Response:
    payload = await parse(request, SellerIn)
    async with context.database(request).write() as connection:
        seller = await service.replace(connection, payload)
    return json_response(success_body(seller, message="Seller profile updated"))
