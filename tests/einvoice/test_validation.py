"""The validator on the publishers' own examples: every one passes its layers, and a copy broken
the way a receiver would reject it fails at the right rule."""

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from tests.einvoice import validation
from tests.einvoice.validation import RULES_DIR, SCHEMAS, Failure, Profile, Syntax, Validator

PEPPOL_EXAMPLES = RULES_DIR / "peppol-bis3" / "2026.5" / "examples"
XRECHNUNG_EXAMPLES = RULES_DIR / "xrechnung" / "3.0.2" / "examples"
FOLDERS: dict[Path, Profile] = {PEPPOL_EXAMPLES: "peppol", XRECHNUNG_EXAMPLES: "xrechnung"}

# Files of the example folders that are not e-invoices, by name, with the reason. None today:
# all 17 are an Invoice, a CreditNote or a CrossIndustryInvoice (Peppol's sales-order-example.xml
# is an invoice that refers to a sales order, BT-14, not an order). Every other file is validated,
# so one that is added and is no invoice fails below until it is listed here.
NOT_INVOICES: dict[str, str] = {}
EXPECTED_COUNT = {"peppol": 10, "xrechnung": 7}

# The advice (warning, information) the examples carry; anything else would be news. KoSIT's
# 01.01a has no delivery date or invoicing period: BR-DE-TMP-32, flagged "information".
ADVICE: dict[str, set[tuple[str, str]]] = {
    "01.01a-INVOICE_ubl.xml": {("BR-DE-TMP-32", "information")},
    "01.01a-INVOICE_uncefact.xml": {("BR-DE-TMP-32", "information")},
}

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}
PEPPOL_BASE = PEPPOL_EXAMPLES / "base-example.xml"
XRECHNUNG_UBL = XRECHNUNG_EXAMPLES / "01.01a-INVOICE_ubl.xml"
XRECHNUNG_CII = XRECHNUNG_EXAMPLES / "01.01a-INVOICE_uncefact.xml"


def _examples() -> list[tuple[Path, Profile]]:
    return [
        (path, profile)
        for folder, profile in FOLDERS.items()
        for path in (sorted(folder.iterdir()) if folder.is_dir() else [])
        if path.name not in NOT_INVOICES
    ]


EXAMPLES = _examples()


def _syntax(xml: bytes) -> Syntax:
    root = etree.fromstring(xml).tag
    for syntax, roots in SCHEMAS.items():
        if root in roots:
            return syntax
    raise AssertionError(f"{root} is not an e-invoice: list the file in NOT_INVOICES, and why")


def _changed(path: Path, xpath: str, change: Callable[[etree._Element], None]) -> bytes:
    """A copy of the example with change applied to the one element at xpath."""
    tree = etree.parse(path)
    elements = tree.xpath(xpath, namespaces=NS)
    assert isinstance(elements, list) and len(elements) == 1, f"{xpath} in {path.name}"
    element = elements[0]
    assert isinstance(element, etree._Element)
    change(element)
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def _add_one(element: etree._Element) -> None:
    element.text = str(Decimal(element.text or "0") + 1)


def _remove(element: etree._Element) -> None:
    parent = element.getparent()
    assert parent is not None
    parent.remove(element)


def _bogus_sibling(element: etree._Element) -> None:
    bogus = etree.Element(f"{{{etree.QName(element).namespace}}}Bogus")
    bogus.text = "1"
    element.addnext(bogus)


def _ids(failures: list[Failure]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for failure in failures:
        found.setdefault(failure.id, set()).add(failure.flag)
    return found


def test_the_example_folders_hold_what_was_inspected(validator: Validator) -> None:
    found = {profile: 0 for profile in EXPECTED_COUNT}
    for _, profile in EXAMPLES:
        found[profile] += 1
    assert found == EXPECTED_COUNT


@pytest.mark.parametrize(("path", "profile"), EXAMPLES, ids=[path.name for path, _ in EXAMPLES])
def test_every_example_passes_its_layers(
    validator: Validator, path: Path, profile: Profile
) -> None:
    """Peppol: UBL XSD + EN 16931 (as Peppol ships it) + Peppol. XRechnung: the XSD of its syntax
    (UBL or CII) + EN 16931 + XRechnung."""
    xml = path.read_bytes()
    failures = validator.check(xml, syntax=_syntax(xml), profile=profile)
    rejecting = [str(failure) for failure in failures if failure.flag in ("fatal", "error")]
    assert rejecting == []
    assert {(failure.id, failure.flag) for failure in failures} == ADVICE.get(path.name, set())


def test_advice_does_not_fail_assert_valid(validator: Validator) -> None:
    xml = XRECHNUNG_UBL.read_bytes()
    assert validator.check(xml, syntax="ubl", profile="xrechnung") != []
    validator.assert_valid(xml, syntax="ubl", profile="xrechnung")


def test_a_wrong_ubl_payable_amount_fails_br_co_16(validator: Validator) -> None:
    xml = _changed(PEPPOL_BASE, "/*/cac:LegalMonetaryTotal/cbc:PayableAmount", _add_one)
    failures = validator.check(xml, syntax="ubl", profile="peppol")
    assert _ids(failures) == {"BR-CO-16": {"fatal"}}
    assert "/*:LegalMonetaryTotal" in failures[0].location
    with pytest.raises(
        AssertionError, match=r"1 fatal/error .*\n  BR-CO-16 \[fatal\] \[BR-CO-16\]"
    ):
        validator.assert_valid(xml, syntax="ubl", profile="peppol")


def test_a_wrong_cii_due_payable_amount_fails_br_co_16(validator: Validator) -> None:
    xpath = (
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
        "/ram:ApplicableHeaderTradeSettlement"
        "/ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:DuePayableAmount"
    )
    xml = _changed(XRECHNUNG_CII, xpath, _add_one)
    assert _ids(validator.check(xml, syntax="cii", profile="en16931")) == {"BR-CO-16": {"fatal"}}
    with pytest.raises(AssertionError, match=r"BR-CO-16 \[fatal\]"):
        validator.assert_valid(xml, syntax="cii", profile="xrechnung")


@pytest.mark.parametrize(
    ("path", "syntax", "xpath"),
    [
        (PEPPOL_BASE, "ubl", "/*/cbc:ID"),
        (XRECHNUNG_CII, "cii", "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID"),
    ],
    ids=["ubl", "cii"],
)
def test_a_bogus_element_fails_the_xsd(
    validator: Validator, path: Path, syntax: Syntax, xpath: str
) -> None:
    xml = _changed(path, xpath, _bogus_sibling)
    failures = validator.check(xml, syntax=syntax, profile="en16931")
    assert failures[0].id == "XSD"
    assert failures[0].flag == "fatal"
    assert "Bogus': This element is not expected" in failures[0].text
    assert "line " in failures[0].location
    with pytest.raises(AssertionError, match=r"XSD \[fatal\] Element '\{urn:[^}]+\}Bogus'"):
        validator.assert_valid(xml, syntax=syntax, profile="en16931")


def test_the_peppol_layer_runs_only_for_peppol(validator: Validator) -> None:
    xml = _changed(PEPPOL_BASE, "/*/cbc:ProfileID", _remove)  # BT-23, optional in EN 16931
    found = _ids(validator.check(xml, syntax="ubl", profile="peppol"))
    assert found["PEPPOL-EN16931-R001"] == {"fatal"}  # and R007, on the format of BT-23
    assert all(rule.startswith("PEPPOL-EN16931-") for rule in found)
    assert validator.check(xml, syntax="ubl", profile="en16931") == []


@pytest.mark.parametrize(
    ("path", "syntax", "xpath"),
    [
        (XRECHNUNG_UBL, "ubl", "/*/cbc:BuyerReference"),
        (
            XRECHNUNG_CII,
            "cii",
            "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction"
            "/ram:ApplicableHeaderTradeAgreement/ram:BuyerReference",
        ),
    ],
    ids=["ubl", "cii"],
)
def test_the_xrechnung_layer_runs_only_for_xrechnung(
    validator: Validator, path: Path, syntax: Syntax, xpath: str
) -> None:
    xml = _changed(path, xpath, _remove)  # BT-10, the Leitweg-ID: optional in EN 16931
    found = _ids(validator.check(xml, syntax=syntax, profile="xrechnung"))
    assert found.pop("BR-DE-15") == {"fatal"}
    assert all(flag not in ("fatal", "error") for flags in found.values() for flag in flags)
    assert not any(
        failure.id.startswith("BR-DE")
        for failure in validator.check(xml, syntax=syntax, profile="en16931")
    )


def test_a_document_of_the_other_syntax_fails_the_xsd(validator: Validator) -> None:
    failures = validator.check(XRECHNUNG_CII.read_bytes(), syntax="ubl", profile="en16931")
    assert len(failures) == 1
    assert (failures[0].id, failures[0].flag) == ("XSD", "fatal")
    assert "CrossIndustryInvoice is not UBL" in failures[0].text


def test_what_is_not_xml_fails_the_xsd(validator: Validator) -> None:
    with pytest.raises(AssertionError, match=r"XSD \[fatal\] not XML: .* at line 1"):
        validator.assert_valid(b"<Invoice>", syntax="ubl", profile="peppol")


def test_peppol_has_no_cii_rules(validator: Validator) -> None:
    with pytest.raises(ValueError, match="UBL only"):
        validator.check(XRECHNUNG_CII.read_bytes(), syntax="cii", profile="peppol")


def test_one_validator_per_process(validator: Validator) -> None:
    assert validation.validator() is validation.validator() is validator
