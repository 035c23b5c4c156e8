"""The seller profile: who issues the invoices."""

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WrapValidator,
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

# schwifty (its bank registry, pycountry, rstr: ~2 MB resident) is imported by the validators,
# on the first IBAN or BIC checked, not with the app (issue 15).
_IBAN_PROBLEMS = {
    "InvalidChecksumDigits": "its check digits do not match",
    "InvalidLength": "its length does not match its country's",
    "InvalidCountryCode": "its country code is unknown",
}


def _iban(value: str) -> str:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(value).compact
    except SchwiftyException as error:
        problem = _IBAN_PROBLEMS.get(
            type(error).__name__, "its format does not match its country's"
        )
        raise ValueError(f"must be a valid IBAN: {problem}") from None


def _bic_or_empty(value: str) -> str:
    if not value.strip():
        return ""
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

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
    """Where the customer pays (BG-16, BG-17): printed on invoices and in e-invoices."""

    iban: Annotated[
        str,
        Field(min_length=1, max_length=50, examples=["DE89370400440532013000"]),
        AfterValidator(_iban),
    ] = Field(description="Must pass its check digits; stored without spaces.")
    bic: Annotated[
        str, Field(max_length=20, examples=["COBADEFFXXX"]), AfterValidator(_bic_or_empty)
    ] = Field(default="", description="8 or 11 characters, or empty.")
    accountName: str = Field(
        default="",
        max_length=200,
        description="The account holder.",
        examples=["Northwind Trading GmbH"],
    )


class SellerIn(Strict):
    """The whole seller profile: PUT replaces it, so send every field you want kept."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Northwind Trading Co.",
                    "legalName": "Northwind Trading GmbH",
                    "address": {
                        "street": "Market St 400",
                        "city": "Berlin",
                        "postalCode": "10115",
                        "country": "DE",
                    },
                    "vatId": "DE123456789",
                    "taxRegistrationId": "",
                    "legalRegistrationId": "HRB 12345",
                    "email": "billing@northwind.example",
                    "phone": "+49 30 1234567",
                    "contact": {
                        "name": "Accounts receivable",
                        "phone": "+49 30 1234567",
                        "email": "ar@northwind.example",
                    },
                    "electronicAddress": {"scheme": "0204", "id": "991-12345-67"},
                    "bankAccount": {
                        "iban": "DE89370400440532013000",
                        "bic": "COBADEFFXXX",
                        "accountName": "Northwind Trading GmbH",
                    },
                    "paymentTermsDays": 30,
                }
            ]
        }
    )

    name: Name = Field(
        min_length=1,
        max_length=200,
        description="Required: the trading name, printed on every document.",
        examples=["Northwind Trading Co."],
    )
    legalName: str = Field(
        default="",
        max_length=200,
        description="The registered name (BT-27), if not the trading name.",
        examples=["Northwind Trading GmbH"],
    )
    address: PartyAddress = Field(
        default=None,
        description="Free text, or a postal address object (e-invoices need its country).",
    )
    vatId: VatIdOrEmpty = Field(
        default="",
        description="The seller's VAT identifier with its country prefix (BT-31), or empty.",
        examples=["DE123456789"],
    )
    taxRegistrationId: str = Field(
        default="",
        max_length=100,
        description="A local tax number (BT-32), where there is no VAT id.",
    )
    legalRegistrationId: str = Field(
        default="",
        max_length=100,
        description="The commercial register entry (BT-30).",
        examples=["HRB 12345"],
    )
    email: EmailOrEmpty = Field(default="", description="The seller's email address, or empty.")
    phone: str = Field(
        default="",
        max_length=50,
        description="A telephone number, or empty.",
        examples=["+49 30 1234567"],
    )
    contact: Contact | None = Field(
        default=None, description="The seller's contact point (BG-6); XRechnung needs it."
    )
    electronicAddress: ElectronicAddress | None = Field(
        default=None, description="Where the seller receives e-invoices (BT-34); Peppol needs it."
    )
    bankAccount: BankAccount | None = Field(
        default=None, description="Where customers pay; XRechnung invoices need it."
    )
    paymentTermsDays: int = Field(
        default=DEFAULT_PAYMENT_TERMS_DAYS,
        ge=0,
        le=365,
        strict=True,
        description="Days from issue to due date for invoices that name neither; 0 to 365, "
        "default 30.",
        examples=[30],
    )


class SellerOut(BaseModel):
    """The seller profile: who issues the invoices."""

    name: str = Field(description="The trading name.", examples=["Northwind Trading Co."])
    legalName: str = Field(description="The registered name (BT-27), or empty.")
    address: PostalAddress | str | None = Field(
        description="Free text, or a postal address object."
    )
    vatId: str = Field(description="BT-31, or empty.", examples=["DE123456789"])
    taxRegistrationId: str = Field(description="BT-32, or empty.")
    legalRegistrationId: str = Field(description="BT-30, or empty.", examples=["HRB 12345"])
    email: str = Field(description="Or empty.", examples=["billing@northwind.example"])
    phone: str = Field(description="Or empty.", examples=["+49 30 1234567"])
    contact: Contact | None = Field(description="The seller's contact point (BG-6).")
    electronicAddress: ElectronicAddress | None = Field(
        description="Where the seller receives e-invoices (BT-34)."
    )
    bankAccount: BankAccount | None = Field(description="Where customers pay.")
    paymentTermsDays: int = Field(description="Default days from issue to due date.", examples=[30])
    updatedAt: str | None = Field(description="Null until the profile is first saved.")
