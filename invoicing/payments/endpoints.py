from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.auth.dependencies import principal
from invoicing.db.base import Connection
from invoicing.invoices.service import INVOICE_NOT_FOUND
from invoicing.payments import service
from invoicing.payments.schemas import PaymentCreate, PaymentOut
from invoicing.payments.service import EXCEEDS_AMOUNT_DUE, NOTHING_TO_PAY
from invoicing.web import idempotency
from invoicing.web.bodies import parse
from invoicing.web.openapi import body
from invoicing.web.responses import success_body
from invoicing.web.schemas import CreatedEnvelope, Says, error_responses

router = APIRouter(prefix="/invoices", tags=["payments"], responses=error_responses(401))


@router.post(
    "/{invoice_id}/payments",
    status_code=201,
    response_model=CreatedEnvelope[PaymentOut],
    responses=error_responses(
        messages={
            400: [
                "Validation error: amount is required",
                "Validation error: amount must be greater than 0",
                "Validation error: amount must have at most 2 decimals for USD",
                "Validation error: paidAt must not be in the future (today is 2026-03-05)",
                "Validation error: method must be at most 40 characters",
            ],
            404: [Says(INVOICE_NOT_FOUND, "No invoice has this id (a malformed id included)")],
            409: [
                Says(
                    EXCEEDS_AMOUNT_DUE,
                    "amount is more than amountDue (`errors` says how much is due)",
                ),
                Says(NOTHING_TO_PAY, "The invoice's amountDue is 0 or less"),
            ],
        }
    ),
    openapi_extra=body(PaymentCreate, idempotent=True),
    summary="Record a payment against an invoice",
    description="Records money received for the invoice, in its currency and minor unit; the "
    "invoice's `paidTotal`, `amountDue` and `status` (`partially_paid`, `paid`) follow. Never "
    "more than the amount due, even under concurrent requests; `paidAt` defaults to today and "
    "is never in the future. Payments are never edited or deleted. Send an `Idempotency-Key` "
    "to retry safely. Any access token.",
)
async def create_payment(request: Request, invoice_id: str) -> Response:
    payload = await parse(request, PaymentCreate)
    caller = principal(request)
    settings = request.app.state.settings

    async def create(connection: Connection) -> bytes:
        payment = await service.create(connection, caller, invoice_id, payload, settings)
        return success_body(payment, message="Payment recorded")

    return await idempotency.run(request, create)
