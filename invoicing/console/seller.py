"""The seller profile: one form with every field PUT /seller takes (PUT replaces the whole profile,
so a field the form left out would be cleared), saved through the same service and model."""

from typing import Any

from babel import Locale
from starlette.requests import Request
from starlette.responses import Response

from invoicing.console import forms
from invoicing.console.common import done, notice_of
from invoicing.console.render import page
from invoicing.console.routing import Console, console_router
from invoicing.console.sessions import Session
from invoicing.core.errors import AppError, ValidationFailed
from invoicing.seller import service
from invoicing.seller.schemas import SellerIn
from invoicing.web import context
from invoicing.web.parties import COUNTRIES

router = console_router()
TEXT_FIELDS = (
    "name",
    "legalName",
    "vatId",
    "taxRegistrationId",
    "legalRegistrationId",
    "email",
    "phone",
)
# The profile's objects, each made of text fields: the form names them `group.field`, as the API's
# error messages do, so that each message lands next to its field.
GROUPS: dict[str, tuple[str, ...]] = {
    "address": (
        "street",
        "additionalStreet",
        "city",
        "postalCode",
        "countrySubdivision",
        "country",
    ),
    "contact": ("name", "phone", "email"),
    "electronicAddress": ("scheme", "id"),
    "bankAccount": ("iban", "bic", "accountName"),
}
ADDRESS_TEXT = "addressText"
# Each field's label, also naming it in the list of what to correct at the top of a refused form.
LABELS = {
    "name": "Name",
    "legalName": "Legal name",
    "vatId": "VAT ID",
    "taxRegistrationId": "Tax number",
    "legalRegistrationId": "Company registration number",
    "email": "Email",
    "phone": "Phone",
    "address": "Postal address",
    "address.street": "Street and number",
    "address.additionalStreet": "Address line 2",
    "address.city": "City",
    "address.postalCode": "Postal code",
    "address.countrySubdivision": "Region or state",
    "address.country": "Country",
    ADDRESS_TEXT: "Address as free text",
    "bankAccount": "Bank account",
    "bankAccount.iban": "IBAN",
    "bankAccount.bic": "BIC",
    "bankAccount.accountName": "Account holder",
    "paymentTermsDays": "Payment terms (days)",
    "contact": "Contact",
    "contact.name": "Contact name",
    "contact.phone": "Contact phone",
    "contact.email": "Contact email",
    "electronicAddress": "Electronic address",
    "electronicAddress.scheme": "Scheme",
    "electronicAddress.id": "Identifier",
}
BOTH_ADDRESSES = "give either the postal address or the free text, not both"
_names = Locale("en").territories
# (code, name) for the country select, by name.
COUNTRY_CHOICES = sorted(((code, str(_names[code])) for code in COUNTRIES), key=lambda c: c[1])


def _values_of(seller: dict[str, Any]) -> dict[str, str]:
    """The saved profile as the form's fields."""
    values = {name: str(seller[name] or "") for name in TEXT_FIELDS}
    values["paymentTermsDays"] = str(seller["paymentTermsDays"])
    address = seller["address"]
    values[ADDRESS_TEXT] = address if isinstance(address, str) else ""
    for group, fields in GROUPS.items():
        saved = seller[group] if isinstance(seller[group], dict) else {}
        for field in fields:
            values[f"{group}.{field}"] = str(saved.get(field) or "")
    return values


def _submitted(form: forms.Form) -> dict[str, str]:
    names = [*TEXT_FIELDS, "paymentTermsDays", ADDRESS_TEXT]
    names += [f"{group}.{field}" for group, fields in GROUPS.items() for field in fields]
    return {name: form[name] for name in names}


def _group(form: forms.Form, group: str) -> dict[str, str] | None:
    """An object of the profile: none when all its fields are blank; a blank field left out, so
    that a required one is reported as required."""
    given = {field: form[f"{group}.{field}"] for field in GROUPS[group]}
    return {field: value for field, value in given.items() if value} or None


def _body(form: forms.Form) -> dict[str, Any]:
    """The form as PUT /seller's body."""
    body: dict[str, Any] = {name: form[name] for name in TEXT_FIELDS}
    body["paymentTermsDays"] = forms.number(form["paymentTermsDays"])
    text = form[ADDRESS_TEXT].replace("\r\n", "\n")
    postal = _group(form, "address")
    if postal and text:
        raise ValidationFailed.on("address", BOTH_ADDRESSES)
    body["address"] = postal or text or None
    for group in ("contact", "electronicAddress", "bankAccount"):
        body[group] = _group(form, group)
    return body


async def _seller_page(
    request: Request,
    session: Session,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    async with context.database(request).read() as connection:
        seller = await service.current(connection, request.app.state.settings)
    return page(
        request,
        "seller.html",
        session,
        status=status,
        seller=seller,
        values=values or _values_of(seller),
        countries=COUNTRY_CHOICES,
        labels=LABELS,
        errors=errors or {},
        notice=notice_of(request),
    )


@router.get("/seller")
async def seller_form(request: Request, session: Console) -> Response:
    return await _seller_page(request, session)


@router.post("/seller")
async def save_seller(request: Request, session: Console) -> Response:
    form = await forms.read(request, session.csrf)
    try:
        payload = forms.validate(SellerIn, _body(form))
        async with context.database(request).write() as connection:
            await service.replace(connection, payload)
    except AppError as error:
        return await _seller_page(
            request,
            session,
            values=_submitted(form),
            errors=forms.errors_of(error),
            status=error.status,
        )
    return done("/admin/seller", "Seller profile saved")
