"""The parties on a document (seller, customer) and how their addresses and bank account print."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError

# Where the postal code goes: "10115 Berlin" (the default), "Springfield, IL 62701", or a line
# of its own under the city ("London" / "SW1A 1AA").
_CITY_SUBDIVISION_CODE = frozenset({"US", "CA", "AU"})
_CODE_ON_OWN_LINE = frozenset({"GB", "IE", "LV"})


def text(value: Any) -> str | None:
    """A trimmed string, or None for null and "" (the API's two ways of "not set")."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@lru_cache(maxsize=32)
def _territories(locale: str) -> Mapping[str, str]:
    try:
        names: Mapping[str, str] = Locale.parse(locale).territories
    except (UnknownLocaleError, ValueError):
        names = Locale("en").territories
    return names


def country_name(code: str, locale: str) -> str:
    """The country's name in the locale's language ("DE" -> "Germany" / "Deutschland")."""
    return _territories(locale).get(code.upper(), code)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str = ""
    additional_street: str = ""
    city: str = ""
    postal_code: str = ""
    country_subdivision: str = ""
    country: str = ""  # ISO 3166-1 alpha-2

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> PostalAddress:
        def field(key: str) -> str:
            return text(data.get(key)) or ""

        return cls(
            street=field("street"),
            additional_street=field("additionalStreet"),
            city=field("city"),
            postal_code=field("postalCode"),
            country_subdivision=field("countrySubdivision"),
            country=field("country").upper(),
        )

    def lines(self, locale: str) -> tuple[str, ...]:
        """The address as printed, one line each, the country by name in `locale`."""
        lines = [self.street, self.additional_street]
        code, city, region = self.postal_code, self.city, self.country_subdivision
        if self.country in _CITY_SUBDIVISION_CODE:
            lines.append(", ".join(p for p in (city, f"{region} {code}".strip()) if p))
        elif self.country in _CODE_ON_OWN_LINE:
            lines += [city, region, code]
        else:
            lines += [f"{code} {city}".strip(), region]
        if self.country:
            lines.append(country_name(self.country, locale))
        return tuple(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    email: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Contact | None:
        if not isinstance(data, Mapping):
            return None
        contact = cls(text(data.get("name")), text(data.get("phone")), text(data.get("email")))
        return contact if any((contact.name, contact.phone, contact.email)) else None

    @property
    def text(self) -> str:
        return ", ".join(part for part in (self.name, self.phone, self.email) if part)


@dataclass(frozen=True, slots=True)
class BankAccount:
    iban: str
    bic: str | None = None
    account_name: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> BankAccount | None:
        if not isinstance(data, Mapping):
            return None
        iban = text(data.get("iban"))
        if iban is None:
            return None
        return cls(iban, text(data.get("bic")), text(data.get("accountName")))

    @property
    def iban_grouped(self) -> str:
        """The IBAN in groups of four, as printed ("DE89 3704 0044 0532 0130 00")."""
        compact = "".join(self.iban.split()).upper()
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@dataclass(frozen=True, slots=True)
class Party:
    """The seller or the customer, as the document states them."""

    name: str
    legal_name: str | None = None
    # A postal address, or free text (older documents; may hold line breaks), or none.
    address: PostalAddress | str | None = None
    vat_id: str | None = None
    tax_registration_id: str | None = None
    legal_registration_id: str | None = None
    email: str | None = None
    phone: str | None = None
    contact: Contact | None = None
    buyer_reference: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any] | None) -> Party:
        data = data or {}
        raw_address = data.get("address")
        address: PostalAddress | str | None
        if isinstance(raw_address, Mapping):
            address = PostalAddress.from_api(raw_address)
        else:
            address = text(raw_address)
        return cls(
            name=text(data.get("name")) or "",
            legal_name=text(data.get("legalName")),
            address=address,
            vat_id=text(data.get("vatId")),
            tax_registration_id=text(data.get("taxRegistrationId")),
            legal_registration_id=text(data.get("legalRegistrationId")),
            email=text(data.get("email")),
            phone=text(data.get("phone")),
            contact=Contact.from_api(data.get("contact")),
            buyer_reference=text(data.get("buyerReference")),
        )

    @property
    def other_legal_name(self) -> str | None:
        """The legal name when it says more than the trading name."""
        return self.legal_name if self.legal_name and self.legal_name != self.name else None

    def address_lines(self, locale: str) -> tuple[str, ...]:
        if isinstance(self.address, PostalAddress):
            return self.address.lines(locale)
        if self.address:
            return tuple(line.strip() for line in self.address.splitlines() if line.strip())
        return ()
