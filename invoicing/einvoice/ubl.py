"""An invoice or a credit note as UBL 2.1 (Peppol BIS Billing 3.0, or the XRechnung flavour),
built from the document's API object with its exact decimals."""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeAlias

from lxml import etree

from invoicing.einvoice import terms

_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_ROOT = {
    "Invoice": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "CreditNote": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
# PEPPOL-EN16931-R120 accepts a line net amount within 0.02 of quantity * price; beyond it the
# rounding of a split document is stated as a line charge or allowance (API.md, E-invoices).
_R120_SLACK = Decimal("0.01")
_CENT = Decimal("0.01")

Element: TypeAlias = etree._Element


def build_ubl(data: Mapping[str, Any], *, profile: Literal["peppol", "xrechnung"]) -> bytes:
    credit = terms.is_document_of_credit(data)
    kind = "CreditNote" if credit else "Invoice"
    root = etree.Element(
        f"{{{_ROOT[kind]}}}{kind}",
        nsmap={None: _ROOT[kind], "cac": _CAC, "cbc": _CBC},  # type: ignore[dict-item]
    )
    currency: str = data["currency"]
    _cbc(root, "CustomizationID", terms.CUSTOMIZATION[("ubl", profile)])
    _cbc(root, "ProfileID", terms.PEPPOL_BILLING)
    _cbc(root, "ID", data["number"])
    _cbc(root, "IssueDate", data["issueDate"])
    if not credit:
        _cbc(root, "DueDate", data["dueDate"])
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode",
         terms.CREDIT_NOTE_TYPE if credit else terms.INVOICE_TYPE)  # fmt: skip
    if credit:
        _cbc(root, "Note", data["reason"])
    _cbc(root, "DocumentCurrencyCode", currency)
    customer = data["customer"]
    _cbc(root, "BuyerReference", customer.get("buyerReference"))
    order = _cac(root, "OrderReference")
    _cbc(order, "ID", data["order"])
    if credit:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", data["invoiceNumber"])  # BT-25
        _cbc(reference, "IssueDate", data.get("invoiceIssueDate"))  # BT-26
    outside_vat = all(tax["category"] == "O" for tax in data["taxes"])
    _party(
        _cac(root, "AccountingSupplierParty"), data["seller"], seller=True, outside_vat=outside_vat
    )
    _party(_cac(root, "AccountingCustomerParty"), customer, seller=False, outside_vat=outside_vat)
    categories = {tax["category"] for tax in data["taxes"]}
    supplied = terms.delivery_date(data, categories)
    if supplied:
        delivery = _cac(root, "Delivery")
        _cbc(delivery, "ActualDeliveryDate", supplied)
        # BG-15: where the goods went, when the order said; for an intra-community supply it
        # must be stated (BR-IC-12), and without a delivery address it is the customer's own.
        place = data.get("deliverTo") or ("K" in categories and customer.get("address"))
        if place:
            _address(_cac(_cac(delivery, "DeliveryLocation"), "Address"), place)
    _payment(root, data, credit)
    _tax_total(root, data["taxes"], data["taxTotal"], currency)
    _totals(root, data, currency, credit)
    for index, line in enumerate(data["lineItems"], start=1):
        _line(root, index, line, currency, credit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _cbc(parent: Element, name: str, value: Any, **attributes: str) -> Element | None:
    """A basic component; nothing when the value is empty (PEPPOL-EN16931-R008)."""
    if value is None or value == "":
        return None
    element = etree.SubElement(parent, f"{{{_CBC}}}{name}", attributes)
    element.text = str(value)
    return element


def _cac(parent: Element, name: str) -> Element:
    return etree.SubElement(parent, f"{{{_CAC}}}{name}")


def _money(parent: Element, name: str, value: Decimal | int, currency: str) -> None:
    _cbc(parent, name, terms.amount(Decimal(value)), currencyID=currency)


def _party(parent: Element, party: Mapping[str, Any], *, seller: bool, outside_vat: bool) -> None:
    element = _cac(parent, "Party")
    endpoint = party.get("electronicAddress")
    if endpoint:
        _cbc(element, "EndpointID", endpoint["id"], schemeID=endpoint["scheme"])
    elif party.get("email"):  # XRechnung takes an email address (requirements: Peppol does not)
        _cbc(element, "EndpointID", party["email"], schemeID=terms.EMAIL_SCHEME)
    legal_name = party.get("legalName") or party["name"]
    if legal_name != party["name"]:
        _cbc(_cac(element, "PartyName"), "Name", party["name"])
    _address(_cac(element, "PostalAddress"), party.get("address"))
    if party.get("vatId") and not outside_vat:  # BR-O-02: no VAT ids outside the scope of VAT
        _tax_scheme(element, party["vatId"], "VAT")
    if seller and party.get("taxRegistrationId"):
        _tax_scheme(element, party["taxRegistrationId"], "FC")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", legal_name)
    _cbc(legal, "CompanyID", party.get("legalRegistrationId"))
    contact = party.get("contact")
    if seller and not contact and (party.get("email") or party.get("phone")):
        contact = {"name": "", "phone": party.get("phone"), "email": party.get("email")}
    if contact and any(contact.get(key) for key in ("name", "phone", "email")):
        element_contact = _cac(element, "Contact")
        _cbc(element_contact, "Name", contact.get("name"))
        _cbc(element_contact, "Telephone", contact.get("phone"))
        _cbc(element_contact, "ElectronicMail", contact.get("email"))


def _tax_scheme(party: Element, company_id: str, scheme: str) -> None:
    element = _cac(party, "PartyTaxScheme")
    _cbc(element, "CompanyID", company_id)
    _cbc(_cac(element, "TaxScheme"), "ID", scheme)


def _address(element: Element, address: Any) -> None:
    if isinstance(address, Mapping):
        _cbc(element, "StreetName", address.get("street"))
        _cbc(element, "AdditionalStreetName", address.get("additionalStreet"))
        _cbc(element, "CityName", address.get("city"))
        _cbc(element, "PostalZone", address.get("postalCode"))
        _cbc(element, "CountrySubentity", address.get("countrySubdivision"))
        _cbc(_cac(element, "Country"), "IdentificationCode", address["country"])
    elif isinstance(address, str) and address.strip():
        # Free text has no structure to map: its first line as the street; the requirements
        # check answers 422 for what the rules need beyond it (country, city, post code).
        _cbc(element, "StreetName", address.strip().splitlines()[0])


def _payment(root: Element, data: Mapping[str, Any], credit: bool) -> None:
    account = data["seller"].get("bankAccount")
    means = _cac(root, "PaymentMeans")
    code = terms.SEPA_CREDIT_TRANSFER if account else terms.MEANS_NOT_DEFINED
    _cbc(means, "PaymentMeansCode", code)
    _cbc(means, "PaymentID", data["number"])
    if account:
        financial = _cac(means, "PayeeFinancialAccount")
        _cbc(financial, "ID", account["iban"])
        _cbc(financial, "Name", account.get("accountName"))
        if account.get("bic"):
            _cbc(_cac(financial, "FinancialInstitutionBranch"), "ID", account["bic"])
    if not credit:
        _cbc(_cac(root, "PaymentTerms"), "Note", f"Payable by {data['dueDate']}")


def _category(parent: Element, name: str, category: str, rate: Any) -> Element:
    element = _cac(parent, name)
    _cbc(element, "ID", category)
    # Outside the scope of VAT a line states no rate (BR-O-05), but the breakdown states 0 %,
    # which XRechnung (BR-DE-14) and Peppol between German parties (DE-R-014) require.
    if category != "O" or name == "TaxCategory":
        _cbc(element, "Percent", terms.rate(Decimal(rate)))
    return element


def _tax_total(
    root: Element, taxes: Sequence[Mapping[str, Any]], total: Any, currency: str
) -> None:
    element = _cac(root, "TaxTotal")
    _money(element, "TaxAmount", total, currency)
    for tax in taxes:
        subtotal = _cac(element, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", tax["taxable"], currency)
        _money(subtotal, "TaxAmount", tax["amount"], currency)
        category = _category(subtotal, "TaxCategory", tax["category"], tax["rate"])
        if tax["category"] in terms.EXEMPT:
            _cbc(category, "TaxExemptionReasonCode", tax.get("exemptionReasonCode"))
            _cbc(category, "TaxExemptionReason", tax.get("exemptionReason"))
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _totals(root: Element, data: Mapping[str, Any], currency: str, credit: bool) -> None:
    element = _cac(root, "LegalMonetaryTotal")
    _money(element, "LineExtensionAmount", data["subtotal"], currency)
    _money(element, "TaxExclusiveAmount", data["subtotal"], currency)
    _money(element, "TaxInclusiveAmount", data["total"], currency)
    paid = Decimal(0) if credit else Decimal(data["paidTotal"])
    if paid:
        _money(element, "PrepaidAmount", paid, currency)
    _money(element, "PayableAmount", Decimal(data["total"]) - paid, currency)


def _line(root: Element, index: int, line: Mapping[str, Any], currency: str, credit: bool) -> None:
    element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(element, "ID", index)
    quantity, price, amount = (Decimal(line[k]) for k in ("quantity", "unitPrice", "amount"))
    _cbc(element, "CreditedQuantity" if credit else "InvoicedQuantity",
         terms.quantity(quantity), unitCode=line["unitCode"])  # fmt: skip
    _money(element, "LineExtensionAmount", amount, currency)
    _rounding(element, amount - quantity * price, currency)
    item = _cac(element, "Item")
    _cbc(item, "Name", line["name"])
    if line.get("sku"):
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line["sku"])
    category = _category(item, "ClassifiedTaxCategory", line["taxCategory"], line["taxRate"])
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")
    _money(_cac(element, "Price"), "PriceAmount", price, currency)


def _rounding(line: Element, difference: Decimal, currency: str) -> None:
    """What a split document's cumulative rounding added to or took from quantity * price, as a
    line charge or allowance, when it is more than the Peppol rule's slack."""
    stated = difference.quantize(_CENT)
    if abs(difference) <= _R120_SLACK or not stated:
        return
    element = _cac(line, "AllowanceCharge")
    _cbc(element, "ChargeIndicator", "true" if stated > 0 else "false")
    _cbc(element, "AllowanceChargeReason", "Rounding of a split invoice")
    _money(element, "Amount", abs(stated), currency)
