"""What describes a party to an invoice (seller, customer, delivery place): postal addresses,
electronic addresses and contacts, shared by the orders' and the seller profile's schemas."""

from typing import Annotated, Any

from babel import Locale
from pydantic import (
    AfterValidator,
    Field,
    TypeAdapter,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from invoicing.mail.message import InvalidRecipient, parse_recipient
from invoicing.web.schemas import Strict

# ISO 3166-1 alpha-2: CLDR's two-letter territories (through Babel) without those ISO 3166 has not
# assigned to a country: reserved codes (AC, CP, CQ, DG, EA, IC, TA), groupings (EU, EZ, UN, QO),
# Kosovo's provisional XK, pseudo-locales (XA, XB) and "unknown" (ZZ). 249 codes, as ISO lists.
_NOT_COUNTRIES = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "IC", "TA", "EU", "EZ", "UN", "QO", "XK", "XA", "XB", "ZZ"}
)
COUNTRIES: frozenset[str] = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)


def _country_code(code: str) -> str:
    if code not in COUNTRIES:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code such as DE")
    return code


Country = Annotated[
    str, Field(min_length=2, max_length=2, examples=["DE"]), AfterValidator(_country_code)
]


class PostalAddress(Strict):
    """A postal address as e-invoices carry it (EN 16931 BG-5, BG-8, BG-15)."""

    street: str = Field(
        default="", max_length=100, description="Street and number.", examples=["Main St 1"]
    )
    additionalStreet: str = Field(
        default="", max_length=100, description="A second address line.", examples=["Building 4"]
    )
    city: str = Field(default="", max_length=100, description="The city.", examples=["Berlin"])
    postalCode: str = Field(
        default="", max_length=20, description="The post code.", examples=["10115"]
    )
    countrySubdivision: str = Field(
        default="", max_length=100, description="Region, state or province.", examples=["Berlin"]
    )
    country: Country = Field(description="ISO 3166-1 alpha-2 country code; required.")


# The CEF Electronic Address Scheme (EAS) codes EN 16931 1.3.16 accepts (BR-CL-25).
_EAS = (
    "0002 0007 0009 0037 0060 0088 0096 0097 0106 0130 0135 0142 0147 0151 0154 0158 "
    "0170 0177 0183 0184 0188 0190 0191 0192 0193 0194 0195 0196 0198 0199 0200 0201 "
    "0202 0203 0204 0205 0208 0209 0210 0211 0212 0213 0215 0216 0217 0218 0219 0220 "
    "0221 0225 0230 0235 0240 0242 0244 0245 0246 0248 9910 9913 9914 9915 9918 9919 "
    "9920 9922 9923 9924 9925 9926 9927 9928 9929 9930 9931 9932 9933 9934 9935 9936 "
    "9937 9938 9939 9940 9941 9942 9943 9944 9945 9946 9947 9948 9949 9950 9951 9952 "
    "9953 9957 9959 AN AQ AS AU EM"
)
EAS_CODES = frozenset(_EAS.split())
GLN = "0088"


def _gln_check_digit(digits: str) -> bool:
    """GS1's mod-10 check digit (weights 3 and 1 from the right, check digit excluded)."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


class ElectronicAddress(Strict):
    """An endpoint the buyer's or seller's software receives on (BT-34, BT-49)."""

    scheme: str = Field(
        min_length=1,
        max_length=10,
        pattern=r"^[0-9A-Z]+$",
        description="An EAS code, such as 0088 (GLN), 0204 (Leitweg-ID) or 9930 (German VAT id).",
        examples=["0088"],
    )
    id: str = Field(
        min_length=1,
        max_length=100,
        description="The identifier in that scheme; a GLN (0088) needs its 13 digits and its "
        "check digit.",
        examples=["5798000000001"],
    )

    @field_validator("scheme")
    @classmethod
    def _known_scheme(cls, scheme: str) -> str:
        if scheme not in EAS_CODES:
            raise ValueError("must be a code of the EAS list, such as 0088 (GLN) or 0204")
        return scheme

    @model_validator(mode="after")
    def _valid_gln(self) -> "ElectronicAddress":
        # Peppol refuses a GLN that is not 13 digits with its check digit (PEPPOL-COMMON-R040).
        if self.scheme == GLN and not (
            len(self.id) == 13 and self.id.isascii() and self.id.isdigit()
            and _gln_check_digit(self.id)
        ):  # fmt: skip
            raise ValueError("id must be a GLN of 13 digits with a valid check digit")
        return self


class Contact(Strict):
    """A person or department to contact (BG-6, BG-9); XRechnung needs the seller's."""

    name: str = Field(
        default="", max_length=200, description="Who.", examples=["Accounts receivable"]
    )
    phone: str = Field(
        default="", max_length=50, description="A telephone number.", examples=["+49 30 1234567"]
    )
    email: str = Field(
        default="", max_length=320, description="An email address.", examples=["ar@acme.example"]
    )


VatId = Annotated[
    str,
    Field(
        min_length=3,
        max_length=30,
        pattern=r"^[A-Z]{2}[0-9A-Za-z+*.]{1,28}$",
        description="A VAT identifier with its country prefix (BT-31, BT-48).",
        examples=["DE123456789"],
    ),
]


ADDRESS_MAX_LINES = 10
ADDRESS_MAX_LINE_LENGTH = 100


def _printable_address(address: str) -> str:
    """An address the invoice prints in full: at most 10 lines of at most 100 characters.

    The PDF never cuts an address off (it wraps long lines and flows onto the next page), but
    one that long is not a postal address: refuse it rather than print pages of it. Lines are
    counted as printed, without blank lines before or after; every kind of line break counts.
    """
    if len(address.strip().splitlines()) > ADDRESS_MAX_LINES:
        raise ValueError(f"must have at most {ADDRESS_MAX_LINES} lines")
    for number, line in enumerate(address.splitlines(), start=1):
        if len(line) > ADDRESS_MAX_LINE_LENGTH:
            raise ValueError(f"line {number} must be at most {ADDRESS_MAX_LINE_LENGTH} characters")
    return address


AddressText = Annotated[
    str,
    Field(
        max_length=1000,
        description="Free text, at most 10 lines of at most 100 characters each.",
        examples=["Main St 1\n10115 Berlin"],
    ),
    AfterValidator(_printable_address),
]


def _deliverable_form(email: str) -> str:
    """Refused here rather than at sending time: syntax and domain form, no DNS lookup."""
    try:
        parse_recipient(email)
    except InvalidRecipient:
        raise ValueError("must be a valid email address") from None
    return email


Email = Annotated[str, AfterValidator(_deliverable_form)]

_POSTAL: TypeAdapter[PostalAddress] = TypeAdapter(PostalAddress)
_TEXT: TypeAdapter[str] = TypeAdapter(AddressText)


def _address(value: Any, union: ValidatorFunctionWrapHandler) -> PostalAddress | str | None:
    """One branch chosen by the value's type, so that errors name `address.country`, not a
    member of the union (a plain union reports every branch's errors)."""
    if value is None:
        return None
    if isinstance(value, str):
        return _TEXT.validate_python(value)
    if isinstance(value, dict):
        return _POSTAL.validate_python(value)
    raise ValueError("must be a postal address object or free text")


# A party's address: a postal address object, free text, or none.
PartyAddress = Annotated[PostalAddress | AddressText | None, WrapValidator(_address)]
