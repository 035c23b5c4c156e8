from typing import Any, Literal

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from invoicing.credit_notes.service import CREDIT_NOTE_NOT_FOUND
from invoicing.documents import delivery, serving, store
from invoicing.einvoice.terms import Profile
from invoicing.invoices.service import INVOICE_NOT_FOUND
from invoicing.mail.message import attachment_filename
from invoicing.web import context
from invoicing.web.schemas import Says, error_responses

router = APIRouter(tags=["e-invoices"], responses=error_responses(401))

_XML = serving.openapi_responses("application/xml", {"type": "string"})


def incomplete(kind: delivery.Kind) -> str:
    """The 422 message for a document whose data the rules of the profile asked for refuse."""
    return kind.incomplete


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
    "Made once (as issued) on the first request or ahead of time, and stored: every answer has "
    "the same bytes, with `ETag` (their SHA-256) and 304 for a matching `If-None-Match`. "
    "It passes the official checks (the XSD, the EN 16931 rules, and the Peppol BIS 3 or "
    "XRechnung rules); when the document's copied seller or customer data would fail one, or "
    "its currency has 3 decimals (EN 16931 allows 2), the answer is 422 with `errors` naming "
    "each missing field and its business term (BT-...). Any access token."
)


async def einvoice_response(
    request: Request, kind: delivery.Kind, id: str, syntax: delivery.Syntax, profile: Profile
) -> Response:
    """The document as `syntax` in `profile` as stored (built and stored on the first request),
    with its ETag; 304 when If-None-Match names it; 422 for what it lacks (nothing stored)."""
    database = context.database(request)
    tags = serving.if_none_match(request)
    format = delivery.einvoice_format(syntax, profile)
    if tags:
        known = await store.find_sha256(database, id, format)
        if known is not None and serving.matches(tags, known):
            return serving.not_modified(known)
    settings = request.app.state.settings
    xml = await delivery.stored_einvoice(database, kind, id, settings, syntax, profile)
    if tags and serving.matches(tags, xml.sha256):
        return serving.not_modified(xml.sha256)
    name = attachment_filename(xml.number, credit_note=kind.type == "credit_note", extension="xml")
    return serving.document_response(
        xml.content, xml.sha256, media_type="application/xml", filename=name
    )


@router.get(
    "/invoices/{invoice_id}/ubl",
    response_class=Response,
    responses=_INVOICE_ERRORS,
    openapi_extra=serving.CONDITIONAL,
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
    openapi_extra=serving.CONDITIONAL,
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
    openapi_extra=serving.CONDITIONAL,
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
    openapi_extra=serving.CONDITIONAL,
    summary="Get a credit note as CII D16B (EN 16931 or XRechnung)",
    description="The credit note as CII D16B with type code 381 per EN 16931, or with "
    "`?profile=xrechnung` XRechnung 3.0 CII, referencing the invoice it corrects (BT-25, "
    f"BT-26). {_RULES}",
)
async def get_credit_note_cii(
    request: Request, credit_note_id: str, profile: Literal["en16931", "xrechnung"] = "en16931"
) -> Response:
    return await einvoice_response(request, delivery.CREDIT_NOTES, credit_note_id, "cii", profile)
