"""What a document's copied data must hold before it can be an e-invoice that the official rules
accept: one entry per missing business term (BT-...), naming the field to fill (API.md, 422)."""

from collections.abc import Mapping
from typing import Any

from babel.numbers import get_currency_precision

from invoicing.einvoice.terms import Profile

NEEDS_SELLER_TAX_ID = frozenset({"S", "Z", "E", "AE", "K", "G", "L", "M"})


def missing(data: Mapping[str, Any], profile: Profile) -> list[dict[str, str]]:
    """`profile`: "en16931" (the EN 16931 core, what CII/Factur-X needs), "peppol" (UBL over
    Peppol) or "xrechnung"."""
    errors: list[dict[str, str]] = []

    def need(field: str, term: str) -> None:
        errors.append({"field": field, "message": term})

    seller, customer = data["seller"], data["customer"]
    categories = {tax["category"] for tax in data["taxes"]}
    if get_currency_precision(data["currency"]) > 2:
        need("currency", f"EN 16931 allows at most 2 decimals; {data['currency']} has 3")
    seller_address = seller.get("address")
    if not isinstance(seller_address, Mapping):
        need("seller.address", "BT-40 the seller's country: a postal address object is required")
    customer_address = customer.get("address")
    if not isinstance(customer_address, Mapping):
        need("customer.address", "BT-55 the buyer's country: a postal address object is required")
    if categories & NEEDS_SELLER_TAX_ID and not (
        seller.get("vatId") or seller.get("taxRegistrationId")
    ):
        need("seller.vatId", "BT-31 the seller's VAT identifier (or BT-32 taxRegistrationId)")
    if categories & {"K", "G"} and not seller.get("vatId"):
        need(
            "seller.vatId",
            "BT-31 the seller's VAT identifier, for intra-community and export supplies",
        )
    if "AE" in categories and not (customer.get("vatId") or customer.get("legalRegistrationId")):
        need("customer.vatId", "BT-48 the buyer's VAT identifier, for reverse charge")
    if "K" in categories and not customer.get("vatId"):
        need("customer.vatId", "BT-48 the buyer's VAT identifier, for an intra-community supply")
    both_german = _country(seller_address) == _country(customer_address) == "DE"
    if profile in ("peppol", "xrechnung"):
        # Peppol routes on participant identifiers; XRechnung also takes an email address.
        email = profile == "xrechnung"
        if not (seller.get("electronicAddress") or (email and seller.get("email"))):
            need("seller.electronicAddress", "BT-34 the seller's electronic address")
        if not (customer.get("electronicAddress") or (email and customer.get("email"))):
            need("customer.electronicAddress", "BT-49 the buyer's electronic address")
    if profile == "xrechnung" or (profile == "peppol" and both_german):
        _german_rules(data, need, buyer_reference=profile == "xrechnung")
    return errors


def _german_rules(data: Mapping[str, Any], need: Any, *, buyer_reference: bool) -> None:
    """XRechnung (BR-DE-*), and Peppol's rules for a German seller and buyer (DE-R-*)."""
    seller, customer = data["seller"], data["customer"]
    if buyer_reference and not customer.get("buyerReference"):
        need(
            "customer.buyerReference",
            "BT-10 the buyer reference (the Leitweg-ID for public buyers)",
        )
    for party, field in ((seller, "seller"), (customer, "customer")):
        address = party.get("address")
        if isinstance(address, Mapping):
            if not address.get("city"):
                need(f"{field}.address.city", "BT-37/BT-52 the city")
            if not address.get("postalCode"):
                need(f"{field}.address.postalCode", "BT-38/BT-53 the post code")
    contact = seller.get("contact") or {}
    for key, term in (("name", "BT-41 the seller's contact point"),
                      ("phone", "BT-42 the seller's contact telephone"),
                      ("email", "BT-43 the seller's contact email")):  # fmt: skip
        if not contact.get(key):
            need(f"seller.contact.{key}", term)
    if "invoice" not in data and not seller.get("bankAccount"):
        need("seller.bankAccount", "BG-16 payment instructions: the seller's bank account")


def _country(address: Any) -> str | None:
    return address.get("country") if isinstance(address, Mapping) else None
