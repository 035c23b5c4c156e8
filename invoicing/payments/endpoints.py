from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.db.base import Connection
from invoicing.payments import service
from invoicing.payments.schemas import PaymentCreate, PaymentOut
from invoicing.web import idempotency
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import success_body
from invoicing.web.schemas import CreatedEnvelope, error_responses

router = APIRouter(prefix="/invoices", tags=["payments"], responses=error_responses(401))


@router.post(
    "/{invoice_id}/payments",
    status_code=201,
    response_model=CreatedEnvelope[PaymentOut],
    responses=error_responses(400, 404, 409, 413, 415),
    openapi_extra=body(PaymentCreate, idempotent=True),
)
async def create_payment(request: Request, invoice_id: str) -> Response:
    payload = await parse(request, PaymentCreate)
    caller = principal(request)
    settings = request.app.state.settings

    async def create(connection: Connection) -> bytes:
        payment = await service.create(connection, caller, invoice_id, payload, settings)
        return success_body(payment, message="Payment recorded")

    return await idempotency.run(request, create)
