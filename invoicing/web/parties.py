"""What describes a party to an invoice (seller, customer, delivery place): postal addresses,
electronic addresses and contacts, shared by the orders' and the seller profile's schemas."""

from typing import Annotated, Any

from babel import Locale
from pydantic import AfterValidator, Field, TypeAdapter, ValidatorFunctionWrapHandler, WrapValidator

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
    street: str = Field(default="", max_length=100, examples=["Main St 1"])
    additionalStreet: str = Field(default="", max_length=100)
    city: str = Field(default="", max_length=100, examples=["Berlin"])
    postalCode: str = Field(default="", max_length=20, examples=["10115"])
    countrySubdivision: str = Field(default="", max_length=100)
    country: Country


class ElectronicAddress(Strict):
    """An endpoint the buyer's or seller's software receives on (BT-34, BT-49)."""

    scheme: str = Field(
        min_length=1,
        max_length=10,
        pattern=r"^[0-9A-Z]+$",
        description="An EAS code, such as 0088 (GLN), 0204 (Leitweg-ID) or 9930 (German VAT id).",
        examples=["0088"],
    )
    id: str = Field(min_length=1, max_length=100, examples=["5798000000001"])


class Contact(Strict):
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=50)
    email: str = Field(default="", max_length=320)


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
