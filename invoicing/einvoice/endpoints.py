from typing import Any, Literal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.core.errors import Unprocessable
from invoicing.credit_notes.service import CREDIT_NOTE_NOT_FOUND
from invoicing.documents import delivery
from invoicing.einvoice import requirements
from invoicing.einvoice.cii import build_cii
from invoicing.einvoice.terms import Profile
from invoicing.einvoice.ubl import build_ubl
from invoicing.invoices.service import INVOICE_NOT_FOUND
from invoicing.mail.message import attachment_filename
from invoicing.web import context
from invoicing.web.schemas import Says, error_responses

router = APIRouter(tags=["e-invoices"], responses=error_responses(401))

_XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/xml": {"schema": {"type": "string"}}}}
}


def incomplete(kind: delivery.Kind) -> str:
    """The 422 message for a document whose data the rules of the profile asked for refuse."""
    return f"The {kind.name} lacks data that EN 16931 requires"


def _errors(kind: delivery.Kind, not_found: str) -> dict[int | str, dict[str, Any]]:
    return {
        **_XML,
        **error_responses(
            messages={
                404: [Says(not_found, f"No {kind.name} has this id (a malformed id included)")],
                422: [
                    Says(
                        incomplete(kind),
                        "Data the profile's rules require is missing (see `errors`)",
                    )
                ],
            }
        ),
    }


_INVOICE_ERRORS = _errors(delivery.INVOICES, INVOICE_NOT_FOUND)
_CREDIT_NOTE_ERRORS = _errors(delivery.CREDIT_NOTES, CREDIT_NOTE_NOT_FOUND)
_RULES = (
    "It passes the official checks (the XSD, the EN 16931 rules, and the Peppol BIS 3 or "
    "XRechnung rules); when the document's copied seller or customer data would fail one, or "
    "its currency has 3 decimals (EN 16931 allows 2), the answer is 422 with `errors` naming "
    "each missing field and its business term (BT-...). Any access token."
)


async def einvoice_response(
    request: Request, kind: delivery.Kind, id: str, syntax: str, profile: Profile
) -> Response:
    """The document as `syntax` ("ubl" or "cii") in `profile`, or 422 for what it lacks."""
    settings = request.app.state.settings
    data = await delivery.load_data(context.database(request), kind, id, settings)
    missing = requirements.missing(data, profile)
    if missing:
        raise Unprocessable(incomplete(kind), errors=missing)
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
    responses=_INVOICE_ERRORS,
    summary="Get an invoice as UBL 2.1 (Peppol or XRechnung)",
    description="The invoice as a UBL 2.1 `Invoice` per Peppol BIS Billing 3.0, or with "
    "`?profile=xrechnung` the XRechnung 3.0 UBL flavour (`application/xml`, as the attachment "
    f"`invoice-<number>.xml`). {_RULES}",
)
async def get_invoice_ubl(
    request: Request, invoice_id: str, profile: Literal["peppol", "xrechnung"] = "peppol"
) -> Response:
    return await einvoice_response(request, delivery.INVOICES, invoice_id, "ubl", profile)


@router.get(
    "/credit-notes/{credit_note_id}/ubl",
    response_class=Response,
    responses=_CREDIT_NOTE_ERRORS,
    summary="Get a credit note as UBL 2.1 (Peppol or XRechnung)",
    description="The credit note as a UBL 2.1 `CreditNote` per Peppol BIS Billing 3.0, or with "
    "`?profile=xrechnung` XRechnung 3.0, referencing the invoice it corrects (BT-25, BT-26). "
    f"{_RULES}",
)
async def get_credit_note_ubl(
    request: Request, credit_note_id: str, profile: Literal["peppol", "xrechnung"] = "peppol"
) -> Response:
    return await einvoice_response(request, delivery.CREDIT_NOTES, credit_note_id, "ubl", profile)


@router.get(
    "/invoices/{invoice_id}/cii",
    response_class=Response,
    responses=_INVOICE_ERRORS,
    summary="Get an invoice as CII D16B (EN 16931 or XRechnung)",
    description="The invoice as UN/CEFACT CII D16B per EN 16931 (the Factur-X/ZUGFeRD EN 16931 "
    "profile, as embedded in the PDF), or with `?profile=xrechnung` XRechnung 3.0 CII "
    f"(`application/xml`, as the attachment `invoice-<number>.xml`). {_RULES}",
)
async def get_invoice_cii(
    request: Request, invoice_id: str, profile: Literal["en16931", "xrechnung"] = "en16931"
) -> Response:
    return await einvoice_response(request, delivery.INVOICES, invoice_id, "cii", profile)


@router.get(
    "/credit-notes/{credit_note_id}/cii",
    response_class=Response,
    responses=_CREDIT_NOTE_ERRORS,
    summary="Get a credit note as CII D16B (EN 16931 or XRechnung)",
    description="The credit note as CII D16B with type code 381 per EN 16931, or with "
    "`?profile=xrechnung` XRechnung 3.0 CII, referencing the invoice it corrects (BT-25, "
    f"BT-26). {_RULES}",
)
async def get_credit_note_cii(
    request: Request, credit_note_id: str, profile: Literal["en16931", "xrechnung"] = "en16931"
) -> Response:
    return await einvoice_response(request, delivery.CREDIT_NOTES, credit_note_id, "cii", profile)
