"""An invoice or a credit note as UN/CEFACT Cross Industry Invoice D16B per EN 16931 (the
Factur-X / ZUGFeRD "EN 16931" profile), or the XRechnung CII flavour, built from the document's
API object (GET /invoices/{id}, GET /credit-notes/{id}) with its exact decimals.

Element order follows the CII D16B schema (as the Factur-X EN16931 XSD restricts it); no element
is ever written empty (PEPPOL-EN16931-R008, which XRechnung applies)."""

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeAlias

from lxml import etree

from invoicing.einvoice import terms
from invoicing.einvoice.terms import delivery_date

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NAMESPACES = {"rsm": RSM, "qdt": QDT, "ram": RAM, "udt": UDT}

_CENT = Decimal("0.01")  # EN 16931 writes amounts with at most 2 decimals (BR-DEC-*)
_DATE_FORMAT = "102"  # UNTDID 2379: CCYYMMDD
_ROUNDING_REASON = "Rounding difference"

Element: TypeAlias = etree._Element


def build_cii(data: Mapping[str, Any], *, profile: Literal["en16931", "xrechnung"]) -> bytes:
    """The CII document of an invoice or (with an "invoice" key) a credit note: UTF-8 bytes with
    an XML declaration. What the official rules require of the copied data (addresses, VAT ids,
    the buyer reference, ...) is checked before (requirements.missing); this writes what is there.
    """
    customization = terms.CUSTOMIZATION.get(("cii", profile))
    if customization is None:
        raise ValueError(f"No CII profile {profile!r}")
    credit = terms.is_document_of_credit(data)
    lines = list(data.get("lineItems") or ())
    taxes = list(data.get("taxes") or ())
    # BR-O-02: a document outside the scope of VAT names no VAT identifier.
    categories = {str(tax["category"]) for tax in taxes} | {_category(line) for line in lines}
    outside_vat = categories == {"O"}

    root = etree.Element(f"{{{RSM}}}CrossIndustryInvoice", nsmap=NAMESPACES)
    context = _ram(root, "ExchangedDocumentContext", namespace=RSM)
    if profile == "xrechnung":  # BT-23, which XRechnung requires (PEPPOL-EN16931-R001)
        process = _ram(context, "BusinessProcessSpecifiedDocumentContextParameter")
        _text(process, "ID", terms.PEPPOL_BILLING)
    _text(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", customization)

    number = _string(data.get("number")) or str(data["entityId"])
    # Documents from before the lifecycle fields were issued the day they were made.
    issue_date = data.get("issueDate") or str(data["createdAt"])[:10]
    document = _ram(root, "ExchangedDocument", namespace=RSM)
    _text(document, "ID", number)  # BT-1
    _text(document, "TypeCode", terms.CREDIT_NOTE_TYPE if credit else terms.INVOICE_TYPE)
    _date(document, "IssueDateTime", issue_date)  # BT-2
    if credit and _string(data.get("reason")):  # BT-22: why the invoice is credited
        _text(_ram(document, "IncludedNote"), "Content", data["reason"])

    transaction = _ram(root, "SupplyChainTradeTransaction", namespace=RSM)
    for index, line in enumerate(lines, start=1):
        _line(transaction, index, line)
    _agreement(transaction, data, outside_vat=outside_vat)
    _delivery(transaction, data, categories)
    _settlement(transaction, data, number, issue_date, taxes, lines, credit=credit)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# Building blocks


def _ram(parent: Element, name: str, *, namespace: str = RAM) -> Element:
    return etree.SubElement(parent, f"{{{namespace}}}{name}")


def _text(parent: Element, name: str, value: Any, **attributes: str) -> Element | None:
    """A leaf with text; nothing at all when the value is empty (PEPPOL-EN16931-R008)."""
    text = _string(value)
    if text is None:
        return None
    element = etree.SubElement(parent, f"{{{RAM}}}{name}", attributes)
    element.text = text
    return element


def _string(value: Any) -> str | None:
    """A trimmed string, or None for null and "" (the API's two ways of "not set")."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(parent: Element, name: str, value: Any) -> None:
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    container = _ram(parent, name)
    element = etree.SubElement(container, f"{{{UDT}}}DateTimeString", format=_DATE_FORMAT)
    element.text = day.strftime("%Y%m%d")


def _decimal(value: Any, field: str) -> Decimal:
    """An exact number from the API object: a Decimal, an int or decimal text, never a float."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        return Decimal(value)
    raise TypeError(f"{field} must be an exact number, not {type(value).__name__}")


def _money(value: Any, field: str) -> str:
    """An amount as EN 16931 writes it: at most 2 decimals (BR-DEC-*), never rounded here."""
    amount = _decimal(value, field)
    cents = amount.quantize(_CENT)
    if cents != amount:
        raise ValueError(f"{field} has more than 2 decimals: {amount}")
    # 599.70 and 599.7 are the same amount; keep the text as short as the API writes it.
    exponent = amount.as_tuple().exponent
    return terms.amount(cents if isinstance(exponent, int) and exponent < -2 else amount)


def _plain(value: Decimal) -> str:
    """A price or a quantity: as many decimals as it has, no exponent, no trailing zeros."""
    return f"{value.normalize():f}" if value else "0"


def _category(line: Mapping[str, Any]) -> str:
    """A line's UNCL5305 code; the API's default is S with a rate above 0, else Z."""
    category = _string(line.get("taxCategory"))
    if category:
        return category
    return "S" if _decimal(line.get("taxRate") or 0, "taxRate") > 0 else "Z"


# The parts of the transaction


def _line(transaction: Element, index: int, line: Mapping[str, Any]) -> None:
    """BG-25. The line net amount (BT-131) is the API's amount; where cumulative rounding (or a
    currency with fewer decimals than the price) made it differ from quantity x price, the
    difference is a line charge or allowance, so that quantity x price + charges - allowances
    gives the line net amount to the cent (PEPPOL-EN16931-R120, which XRechnung applies)."""
    quantity = _decimal(line["quantity"], "quantity")
    price = _decimal(line["unitPrice"], "unitPrice")
    amount = _decimal(line["amount"], "amount")
    category = _category(line)

    element = _ram(transaction, "IncludedSupplyChainTradeLineItem")
    _text(_ram(element, "AssociatedDocumentLineDocument"), "LineID", str(index))  # BT-126
    product = _ram(element, "SpecifiedTradeProduct")
    _text(product, "SellerAssignedID", line.get("sku"))  # BT-155
    _text(product, "Name", line.get("name"))  # BT-153
    agreement = _ram(element, "SpecifiedLineTradeAgreement")
    _text(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", _plain(price))  # BT-146
    unit = _string(line.get("unitCode")) or "C62"  # BT-130
    delivery = _ram(element, "SpecifiedLineTradeDelivery")
    _text(delivery, "BilledQuantity", _plain(quantity), unitCode=unit)  # BT-129
    settlement = _ram(element, "SpecifiedLineTradeSettlement")
    tax = _ram(settlement, "ApplicableTradeTax")
    _text(tax, "TypeCode", "VAT")
    _text(tax, "CategoryCode", category)  # BT-151
    if category != "O":  # BR-O-05: no rate outside the scope of VAT
        rate = _decimal(line.get("taxRate") or 0, "taxRate")
        _text(tax, "RateApplicablePercent", terms.rate(rate))  # BT-152
    difference = amount - (quantity * price).quantize(_CENT, rounding=ROUND_HALF_UP)
    if difference:
        charge = _ram(settlement, "SpecifiedTradeAllowanceCharge")  # BG-27 / BG-28
        indicator = _ram(charge, "ChargeIndicator")
        etree.SubElement(indicator, f"{{{UDT}}}Indicator").text = str(difference > 0).lower()
        _text(charge, "ActualAmount", _money(abs(difference), "amount"))  # BT-136 / BT-141
        _text(charge, "Reason", _ROUNDING_REASON)  # BT-139 / BT-144
    summation = _ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation")
    _text(summation, "LineTotalAmount", _money(amount, "amount"))  # BT-131


def _agreement(transaction: Element, data: Mapping[str, Any], *, outside_vat: bool) -> None:
    seller, customer = data.get("seller") or {}, data.get("customer") or {}
    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    _text(agreement, "BuyerReference", customer.get("buyerReference"))  # BT-10
    _party(agreement, "SellerTradeParty", seller, seller=True, outside_vat=outside_vat)
    _party(agreement, "BuyerTradeParty", customer, seller=False, outside_vat=outside_vat)
    if _string(data.get("order")):  # BT-13: the order this document bills
        _text(_ram(agreement, "BuyerOrderReferencedDocument"), "IssuerAssignedID", data["order"])


def _party(
    agreement: Element, name: str, party: Mapping[str, Any], *, seller: bool, outside_vat: bool
) -> None:
    """BG-4 with BG-5, BG-6 (seller) or BG-7 with BG-8, BG-9 (buyer)."""
    element = _ram(agreement, name)
    trading_name = _string(party.get("name"))
    legal_name = _string(party.get("legalName")) or trading_name
    _text(element, "Name", legal_name)  # BT-27 / BT-44: the registered name
    registration = _string(party.get("legalRegistrationId"))  # BT-30 / BT-47
    other_trading_name = trading_name if trading_name != legal_name else None  # BT-28 / BT-45
    if registration or other_trading_name:
        legal = _ram(element, "SpecifiedLegalOrganization")
        _text(legal, "ID", registration)
        _text(legal, "TradingBusinessName", other_trading_name)
    _contact(element, party.get("contact"))
    _address(element, "PostalTradeAddress", party.get("address"))
    endpoint = party.get("electronicAddress")  # BT-34 / BT-49
    if isinstance(endpoint, Mapping) and _string(endpoint.get("id")):
        scheme, identifier = str(endpoint["scheme"]), endpoint["id"]
    else:  # XRechnung requires one (PEPPOL-EN16931-R010, -R020): the party's email will do
        scheme, identifier = terms.EMAIL_SCHEME, party.get("email")
    if _string(identifier):
        _text(_ram(element, "URIUniversalCommunication"), "URIID", identifier, schemeID=scheme)
    if not outside_vat:  # BR-O-02
        _tax_registration(element, party.get("vatId"), "VA")  # BT-31 / BT-48
    if seller:
        _tax_registration(element, party.get("taxRegistrationId"), "FC")  # BT-32


def _contact(party: Element, contact: Any) -> None:
    if not isinstance(contact, Mapping):
        return
    name, phone, email = (_string(contact.get(key)) for key in ("name", "phone", "email"))
    if not (name or phone or email):
        return
    element = _ram(party, "DefinedTradeContact")
    _text(element, "PersonName", name)  # BT-41 / BT-56
    if phone:
        _text(_ram(element, "TelephoneUniversalCommunication"), "CompleteNumber", phone)
    if email:
        _text(_ram(element, "EmailURIUniversalCommunication"), "URIID", email)


def _tax_registration(party: Element, identifier: Any, scheme: str) -> None:
    if _string(identifier):
        _text(_ram(party, "SpecifiedTaxRegistration"), "ID", identifier, schemeID=scheme)


def _address(parent: Element, name: str, address: Any) -> None:
    """BG-5 / BG-8 / BG-15 from a postal address object. Free text has no structure to map: it
    goes as one line with no country, and the requirements check answers 422 before for what the
    rules need beyond it (the country above all, which the schema requires)."""
    if isinstance(address, Mapping):
        element = _ram(parent, name)
        _text(element, "PostcodeCode", address.get("postalCode"))
        _text(element, "LineOne", address.get("street"))
        _text(element, "LineTwo", address.get("additionalStreet"))
        _text(element, "CityName", address.get("city"))
        _text(element, "CountryID", str(address.get("country") or "").upper())
        _text(element, "CountrySubDivisionName", address.get("countrySubdivision"))
    elif _string(address):
        lines = [line.strip() for line in str(address).splitlines() if line.strip()]
        _text(_ram(parent, name), "LineOne", ", ".join(lines))


def _delivery(transaction: Element, data: Mapping[str, Any], categories: set[str]) -> None:
    delivery = _ram(transaction, "ApplicableHeaderTradeDelivery")  # may stay empty (R008 allows)
    deliver_to = data.get("deliverTo")
    if deliver_to is None and "K" in categories:
        # BR-IC-12: where intra-community goods went; without a delivery address, the buyer's.
        deliver_to = (data.get("customer") or {}).get("address")
    if isinstance(deliver_to, Mapping):
        _address(_ram(delivery, "ShipToTradeParty"), "PostalTradeAddress", deliver_to)  # BG-15
    supplied = delivery_date(data, categories)
    if supplied:
        event = _ram(delivery, "ActualDeliverySupplyChainEvent")
        _date(event, "OccurrenceDateTime", supplied)


def _settlement(
    transaction: Element,
    data: Mapping[str, Any],
    number: str,
    issue_date: Any,
    taxes: list[Mapping[str, Any]],
    lines: list[Mapping[str, Any]],
    *,
    credit: bool,
) -> None:
    currency = str(data["currency"])
    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    _text(settlement, "PaymentReference", number)  # BT-83
    _text(settlement, "InvoiceCurrencyCode", currency)  # BT-5
    _payment_means(settlement, (data.get("seller") or {}).get("bankAccount"))
    for tax in taxes:
        _tax_breakdown(settlement, tax, lines)
    if not credit and data.get("dueDate"):
        _payment_terms(settlement, issue_date, data["dueDate"])

    total = _decimal(data["total"], "total")
    paid = Decimal(0) if credit else _decimal(data.get("paidTotal") or 0, "paidTotal")
    summation = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")  # BG-22
    _text(summation, "LineTotalAmount", _money(data["subtotal"], "subtotal"))  # BT-106
    _text(summation, "TaxBasisTotalAmount", _money(data["subtotal"], "subtotal"))  # BT-109
    tax_total = _money(data["taxTotal"], "taxTotal")
    _text(summation, "TaxTotalAmount", tax_total, currencyID=currency)  # BT-110
    _text(summation, "GrandTotalAmount", _money(total, "total"))  # BT-112
    if paid:
        _text(summation, "TotalPrepaidAmount", _money(paid, "paidTotal"))  # BT-113
    # BT-115 = BT-112 - BT-113 (BR-CO-16). The invoice states what was paid before it was sent;
    # credit notes are documents of their own, so an invoice never nets them out.
    _text(summation, "DuePayableAmount", _money(total - paid, "total"))

    if credit and _string(data.get("invoiceNumber")):  # BG-3: the invoice this one corrects
        reference = _ram(settlement, "InvoiceReferencedDocument")
        _text(reference, "IssuerAssignedID", data["invoiceNumber"])  # BT-25
        if data.get("invoiceIssueDate"):  # BT-26, when the caller knows it
            issued = _ram(reference, "FormattedIssueDateTime")
            day = date.fromisoformat(str(data["invoiceIssueDate"]))
            element = etree.SubElement(issued, f"{{{QDT}}}DateTimeString", format=_DATE_FORMAT)
            element.text = day.strftime("%Y%m%d")


def _payment_means(settlement: Element, account: Any) -> None:
    """BG-16: a SEPA credit transfer to the seller's IBAN (BG-17, BT-84..86). Without an IBAN no
    credit transfer can be stated (30 and 58 need the account: BR-61, CII-SR-470, BR-DE-23-a),
    yet XRechnung wants payment instructions on every document (BR-DE-1): "1", not defined."""
    iban = _string(account.get("iban")) if isinstance(account, Mapping) else None
    means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
    if not (iban and isinstance(account, Mapping)):
        _text(means, "TypeCode", terms.MEANS_NOT_DEFINED)
        return
    _text(means, "TypeCode", terms.SEPA_CREDIT_TRANSFER)
    financial = _ram(means, "PayeePartyCreditorFinancialAccount")
    _text(financial, "IBANID", "".join(iban.split()).upper())  # BT-84
    _text(financial, "AccountName", account.get("accountName"))  # BT-85
    bic = _string(account.get("bic"))
    if bic:
        _text(_ram(means, "PayeeSpecifiedCreditorFinancialInstitution"), "BICID", bic)  # BT-86


def _tax_breakdown(
    settlement: Element, tax: Mapping[str, Any], lines: list[Mapping[str, Any]]
) -> None:
    """BG-23, one per (category, rate) as the API's `taxes` computed it."""
    category = str(tax["category"])
    reason = code = None
    if category in terms.EXEMPT:  # BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10
        reason, code = _string(tax.get("exemptionReason")), _string(tax.get("exemptionReasonCode"))
        if not (reason or code):  # the tax entry carries them; its lines do too
            for line in lines:
                if _category(line) == category:
                    reason = _string(line.get("exemptionReason"))
                    code = _string(line.get("exemptionReasonCode"))
                    break
    element = _ram(settlement, "ApplicableTradeTax")
    _text(element, "CalculatedAmount", _money(tax["amount"], "taxes.amount"))  # BT-117
    _text(element, "TypeCode", "VAT")
    _text(element, "ExemptionReason", reason)  # BT-120
    _text(element, "BasisAmount", _money(tax["taxable"], "taxes.taxable"))  # BT-116
    _text(element, "CategoryCode", category)  # BT-118
    _text(element, "ExemptionReasonCode", code)  # BT-121
    # BT-119, also for O: BR-48 allows it there and XRechnung requires it (BR-DE-14).
    _text(element, "RateApplicablePercent", terms.rate(_decimal(tax["rate"], "taxes.rate")))


def _payment_terms(settlement: Element, issue_date: Any, due_date: Any) -> None:
    """BT-20 and BT-9. Plain text: XRechnung reads lines starting with "#" as discount terms
    (BR-DE-18), so the text never starts a line with one."""
    issued, due = date.fromisoformat(str(issue_date)), date.fromisoformat(str(due_date))
    days = (due - issued).days
    if days > 0:
        text = f"Payable within {days} day{'s' if days > 1 else ''}, by {due.isoformat()}."
    else:
        text = f"Payable immediately, by {due.isoformat()}."
    element = _ram(settlement, "SpecifiedTradePaymentTerms")
    _text(element, "Description", text)
    _date(element, "DueDateDateTime", due)
