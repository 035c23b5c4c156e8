"""What the UBL and the CII documents share: identifiers of the specifications they follow, and
how EN 16931 writes amounts, rates, quantities and codes."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

Profile = Literal["en16931", "peppol", "xrechnung"]

EN16931 = "urn:cen.eu:en16931:2017"
# BT-24, the specification identifier, by syntax and profile.
CUSTOMIZATION: Mapping[tuple[str, str], str] = {
    ("ubl", "peppol"): f"{EN16931}#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    ("ubl", "xrechnung"): f"{EN16931}#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    ("cii", "en16931"): EN16931,
    ("cii", "xrechnung"): f"{EN16931}#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
}
# BT-23, the business process (Peppol BIS Billing 3.0; XRechnung accepts it too).
PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

INVOICE_TYPE = "380"  # UNCL1001 commercial invoice
CREDIT_NOTE_TYPE = "381"
# UNCL4461: SEPA credit transfer to the seller's IBAN; without an account, "not defined" (a
# credit transfer names its account, BR-61, and XRechnung wants payment means on every document).
SEPA_CREDIT_TRANSFER = "58"
MEANS_NOT_DEFINED = "1"
# CEF EAS: an email address as a party's electronic address (XRechnung accepts it; Peppol routes
# only on its participant identifiers).
EMAIL_SCHEME = "EM"

# Categories with a reason the document must give (BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10).
EXEMPT = frozenset({"E", "AE", "K", "G", "O"})


def amount(value: Decimal) -> str:
    """An amount as EN 16931 writes it: plain decimal text, at most 2 decimals (BR-DEC), as the
    currency's minor unit already rounded it (3-decimal currencies are refused before)."""
    return f"{value:f}"


def rate(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def quantity(value: Decimal) -> str:
    return f"{value.normalize():f}" if value else "0"


def is_document_of_credit(data: Mapping[str, Any]) -> bool:
    """A credit note's API object names the invoice it credits."""
    return "invoice" in data


def delivery_date(data: Mapping[str, Any], categories: set[str]) -> str | None:
    """BT-72: an invoice's date of supply. A credit note has none of its own, but an
    intra-community one must state one (BR-IC-11): the goods' return, its issue date."""
    if data.get("deliveryDate"):
        return str(data["deliveryDate"])
    return str(data["issueDate"]) if "K" in categories else None
