from typing import Any, Literal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.core.errors import Unprocessable
from invoicing.documents import delivery
from invoicing.einvoice import requirements
from invoicing.einvoice.cii import build_cii
from invoicing.einvoice.terms import Profile
from invoicing.einvoice.ubl import build_ubl
from invoicing.mail.message import attachment_filename
from invoicing.web import context
from invoicing.web.schemas import error_responses

router = APIRouter(tags=["e-invoices"], responses=error_responses(401))

_XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {"schema": {"type": "string"}}}}
}


async def einvoice_response(
    request: Request, kind: delivery.Kind, id: str, syntax: str, profile: Profile
) -> Response:
    """The document as `syntax` ("ubl" or "cii") in `profile`, or 422 for what it lacks."""
    settings = request.app.state.settings
    data = await delivery.load_data(context.database(request), kind, id, settings)
    missing = requirements.missing(data, profile)
    if missing:
        raise Unprocessable(f"The {kind.name} lacks data that EN 16931 requires", errors=missing)
    if syntax == "ubl":
        xml = build_ubl(data, profile="xrechnung" if profile == "xrechnung" else "peppol")
    else:
        xml = build_cii(data, profile="xrechnung" if profile == "xrechnung" else "en16931")
    name = attachment_filename(
        data["number"], credit_note=kind is delivery.CREDIT_NOTES, extension="xml"
    )
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/invoices/{invoice_id}/ubl",
    response_class=Response,
    responses={**_XML, **error_responses(400, 404, 422)},
    summary="The invoice as UBL 2.1 (Peppol BIS Billing 3.0, or XRechnung)",
)
async def get_invoice_ubl(
    request: Request, invoice_id: str, profile: Literal["peppol", "xrechnung"] = "peppol"
) -> Response:
    return await einvoice_response(request, delivery.INVOICES, invoice_id, "ubl", profile)


@router.get(
    "/credit-notes/{credit_note_id}/ubl",
    response_class=Response,
    responses={**_XML, **error_responses(400, 404, 422)},
    summary="The credit note as a UBL 2.1 CreditNote (Peppol BIS Billing 3.0, or XRechnung)",
)
async def get_credit_note_ubl(
    request: Request, credit_note_id: str, profile: Literal["peppol", "xrechnung"] = "peppol"
) -> Response:
    return await einvoice_response(request, delivery.CREDIT_NOTES, credit_note_id, "ubl", profile)


@router.get(
    "/invoices/{invoice_id}/cii",
    response_class=Response,
    responses={**_XML, **error_responses(400, 404, 422)},
    summary="The invoice as UN/CEFACT CII D16B (EN 16931, the Factur-X profile; or XRechnung)",
)
async def get_invoice_cii(
    request: Request, invoice_id: str, profile: Literal["en16931", "xrechnung"] = "en16931"
) -> Response:
    return await einvoice_response(request, delivery.INVOICES, invoice_id, "cii", profile)


@router.get(
    "/credit-notes/{credit_note_id}/cii",
    response_class=Response,
    responses={**_XML, **error_responses(400, 404, 422)},
    summary="The credit note as CII D16B, type code 381 (EN 16931; or XRechnung)",
)
async def get_credit_note_cii(
    request: Request, credit_note_id: str, profile: Literal["en16931", "xrechnung"] = "en16931"
) -> Response:
    return await einvoice_response(request, delivery.CREDIT_NOTES, credit_note_id, "cii", profile)
