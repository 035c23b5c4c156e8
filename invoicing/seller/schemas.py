"""The seller profile: who issues the invoices."""

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from invoicing.web.parties import (
    Contact,
    ElectronicAddress,
    Email,
    PartyAddress,
    PostalAddress,
    VatId,
)
from invoicing.web.schemas import Name, Strict

DEFAULT_PAYMENT_TERMS_DAYS = 30

_IBAN_PROBLEMS: dict[type[SchwiftyException], str] = {
    InvalidChecksumDigits: "its check digits do not match",
    InvalidLength: "its length does not match its country's",
    InvalidCountryCode: "its country code is unknown",
}


def _iban(value: str) -> str:
    try:
        return IBAN(value).compact
    except SchwiftyException as error:
        problem = _IBAN_PROBLEMS.get(type(error), "its format does not match its country's")
        raise ValueError(f"must be a valid IBAN: {problem}") from None


def _bic_or_empty(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return BIC(value).compact
    except SchwiftyException:
        raise ValueError("must be a valid BIC of 8 or 11 characters, such as COBADEFFXXX") from None


def _email_or_empty(email: str) -> str:
    return _EMAIL.validate_python(email) if email else email


_VAT_ID: TypeAdapter[str] = TypeAdapter(VatId)
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


# Wrap validators that never call the union's own validation: one branch is chosen by the value,
# so errors name `address.country` or `vatId`, not a union member (a plain union reports every
# branch's errors under its members' names).


def _vat_id_or_empty(value: Any, union: ValidatorFunctionWrapHandler) -> str:
    return "" if value == "" else _VAT_ID.validate_python(value)


VatIdOrEmpty = Annotated[VatId | Literal[""], WrapValidator(_vat_id_or_empty)]
EmailOrEmpty = Annotated[
    str,
    Field(max_length=320, examples=["billing@northwind.example"]),
    AfterValidator(_email_or_empty),
]


class BankAccount(Strict):
    iban: Annotated[
        str,
        Field(min_length=1, max_length=50, examples=["DE89370400440532013000"]),
        AfterValidator(_iban),
    ]
    bic: Annotated[
        str, Field(max_length=20, examples=["COBADEFFXXX"]), AfterValidator(_bic_or_empty)
    ] = ""
    accountName: str = Field(default="", max_length=200)


class SellerIn(Strict):
    name: Name = Field(min_length=1, max_length=200, examples=["Northwind Trading Co."])
    legalName: str = Field(default="", max_length=200)
    address: PartyAddress = None
    vatId: VatIdOrEmpty = ""
    taxRegistrationId: str = Field(default="", max_length=100)
    legalRegistrationId: str = Field(default="", max_length=100)
    email: EmailOrEmpty = ""
    phone: str = Field(default="", max_length=50)
    contact: Contact | None = None
    electronicAddress: ElectronicAddress | None = None
    bankAccount: BankAccount | None = None
    paymentTermsDays: int = Field(default=DEFAULT_PAYMENT_TERMS_DAYS, ge=0, le=365, strict=True)


class SellerOut(BaseModel):
    name: str
    legalName: str
    address: PostalAddress | str | None
    vatId: str
    taxRegistrationId: str
    legalRegistrationId: str
    email: str
    phone: str
    contact: Contact | None
    electronicAddress: ElectronicAddress | None
    bankAccount: BankAccount | None
    paymentTermsDays: int
    updatedAt: str | None = Field(description="Null until the profile is first saved.")
