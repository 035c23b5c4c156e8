"""The PDF of an invoice or a credit note whose data is complete is a Factur-X 1.0 / ZUGFeRD 2.x
PDF/A-3b (EN 16931 profile) that embeds the document's CII as factur-x.xml, byte for byte what
GET .../cii serves; any other document's PDF is a plain PDF (API.md, "E-invoices")."""

from __future__ import annotations

import dataclasses
import io
import pickle
from typing import Any

import facturx
import pytest
from lxml import etree
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from invoicing.documents.model import InvoiceDocument
from invoicing.documents.pdf import render_invoice_pdf
from invoicing.einvoice.cii import build_cii
from tests.documents.test_pdf import sample_credit_note, sample_invoice
from tests.einvoice.validation import Validator, require_rules
from tests.helpers import PUBLIC_BUYER as CUSTOMER
from tests.helpers import SELLER, create_invoice, create_order, line

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PDFAID = "http://www.aiim.org/pdfa/ns/id/"
FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
EXTENSION_NS = {
    "rdf": RDF,
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


@pytest.fixture(scope="session", name="validator")
def validator_fixture() -> Validator:
    return require_rules()


def _catalog(pdf: bytes) -> tuple[PdfReader, DictionaryObject]:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"].get_object()
    assert isinstance(root, DictionaryObject)
    return reader, root


def _xmp_values(xmp: Any, namespace: str, name: str) -> list[str]:
    """A property's values in every rdf:Description, written as an attribute or an element."""
    values = []
    for description in xmp.iter(f"{{{RDF}}}Description"):
        attribute = description.get(f"{{{namespace}}}{name}")
        if attribute is not None:
            values.append(attribute)
        values += [element.text for element in description.findall(f"{{{namespace}}}{name}")]
    return values


def _embedded_font_files(reader: PdfReader) -> list[str]:
    """Each font of each page, by its name, with the key of its embedded font program; fails for a
    font without one."""
    found = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for part in font.get("/DescendantFonts", [font]):
                descriptor = part.get_object()["/FontDescriptor"].get_object()
                files = [
                    key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor
                ]
                assert files, f"{font['/BaseFont']} is not embedded"
                found.append(f"{font['/BaseFont']} {files[0]}")
    return found


def assert_factur_x(pdf: bytes, cii: bytes) -> None:
    """`pdf` is a Factur-X PDF/A-3b (EN 16931) embedding exactly `cii` as factur-x.xml."""
    assert pdf.startswith(b"%PDF-1.7")
    reader, catalog = _catalog(pdf)
    assert len(reader.trailer["/ID"]) == 2  # PDF/A wants a file identifier

    # The XMP metadata: PDF/A-3 conformance B, and the Factur-X properties with their extension
    # schema (PDF/A accepts no XMP property whose schema it does not know or the file describes).
    xmp = etree.fromstring(catalog["/Metadata"].get_object().get_data())
    assert _xmp_values(xmp, PDFAID, "part") == ["3"]
    assert _xmp_values(xmp, PDFAID, "conformance") == ["B"]
    assert _xmp_values(xmp, FX, "DocumentType") == ["INVOICE"]
    assert _xmp_values(xmp, FX, "DocumentFileName") == ["factur-x.xml"]
    assert _xmp_values(xmp, FX, "Version") == ["1.0"]
    assert _xmp_values(xmp, FX, "ConformanceLevel") == ["EN 16931"]
    (schema,) = [
        schema
        for schema in xmp.iterfind(
            ".//pdfaExtension:schemas/rdf:Bag/rdf:li", namespaces=EXTENSION_NS
        )
        if schema.findtext("pdfaSchema:namespaceURI", namespaces=EXTENSION_NS) == FX
    ]
    assert schema.findtext("pdfaSchema:prefix", namespaces=EXTENSION_NS) == "fx"
    properties = {
        prop.findtext("pdfaProperty:name", namespaces=EXTENSION_NS): (
            prop.findtext("pdfaProperty:valueType", namespaces=EXTENSION_NS),
            prop.findtext("pdfaProperty:category", namespaces=EXTENSION_NS),
        )
        for prop in schema.iterfind("pdfaSchema:property/rdf:Seq/rdf:li", namespaces=EXTENSION_NS)
    }
    assert properties == {
        name: ("Text", "external")
        for name in ("DocumentFileName", "DocumentType", "Version", "ConformanceLevel")
    }
    # The document information dictionary agrees with the XMP.
    titles = xmp.findall(f".//{{http://purl.org/dc/elements/1.1/}}title/{{{RDF}}}Alt/{{{RDF}}}li")
    assert [title.text for title in titles] == [reader.metadata.title]

    # The output intent: sRGB for PDF/A.
    (intent,) = catalog["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/DestOutputProfile"].get_object()["/N"] == 3

    # The CII: the document's one associated file, relationship Data, text/xml, the same bytes.
    (filespec,) = catalog["/AF"]
    filespec = filespec.get_object()
    assert filespec["/Type"] == "/Filespec"
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/F"] == filespec["/UF"] == "factur-x.xml"
    embedded = filespec["/EF"]["/F"].get_object()
    assert embedded["/Type"] == "/EmbeddedFile"
    assert embedded["/Subtype"] == "/text/xml"
    assert "/ModDate" in embedded["/Params"]
    assert embedded.get_data() == cii
    assert {name: list(files) for name, files in reader.attachments.items()} == {
        "factur-x.xml": [cii]
    }

    # Every font is embedded (DejaVu, subset).
    fonts = _embedded_font_files(reader)
    assert fonts
    assert all("DejaVu" in font for font in fonts)

    # A Factur-X reader finds the XML, valid against the Factur-X EN 16931 XSD, and its profile.
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=True)
    assert (name, xml) == ("factur-x.xml", cii)
    assert facturx.get_level(etree.fromstring(xml)) == "en16931"


def assert_plain(pdf: bytes) -> None:
    """A plain PDF: no PDF/A claim, no output intent, no attachment."""
    reader, catalog = _catalog(pdf)
    assert len(reader.pages) >= 1
    for key in ("/AF", "/OutputIntents"):
        assert key not in catalog
    assert "/EmbeddedFiles" not in catalog.get("/Names", {})
    assert not reader.attachments
    if "/Metadata" in catalog:
        assert b"pdfaid" not in catalog["/Metadata"].get_object().get_data()
    assert b"factur-x" not in pdf


def _order(api: Any, **overrides: Any) -> dict[str, Any]:
    lines = [
        line("Widget", 30, "19.99", 19, unitCode="C62", sku="W-1"),
        line("Handbook", 2, "24.50", 7),
        line("Training", 1, 480, 0, taxCategory="E", exemptionReason="Vocational training"),
    ]
    return create_order(
        api, **{"customer": CUSTOMER, "currency": "EUR", "lineItems": lines, **overrides}
    )


def test_the_pdf_of_a_complete_invoice_and_its_credit_note_embeds_their_cii(api, validator):
    assert api.put("/seller", json=SELLER).status_code == 200
    invoice = create_invoice(api, _order(api)["id"])
    pdf = api.get(f"/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    cii = api.get(f"/invoices/{invoice['id']}/cii")
    assert cii.status_code == 200, cii.text
    assert_factur_x(pdf.content, cii.content)
    validator.assert_valid(cii.content, syntax="cii", profile="en16931")
    assert "Widget" in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

    note = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"})
    assert note.status_code == 201, note.text
    note_id = note.json()["data"]["id"]
    pdf = api.get(f"/credit-notes/{note_id}/pdf")
    assert pdf.status_code == 200, pdf.text
    cii = api.get(f"/credit-notes/{note_id}/cii")
    assert cii.status_code == 200, cii.text
    assert_factur_x(pdf.content, cii.content)
    root = etree.fromstring(cii.content)
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=CII_NS) == "381"


@pytest.mark.parametrize("case", ["default seller", "3-decimal currency"])
def test_the_pdf_of_a_document_whose_data_is_incomplete_is_a_plain_pdf(api, case):
    if case == "default seller":
        # The seller from the environment has no postal address (nor VAT id).
        order = create_order(api)
    else:
        assert api.put("/seller", json=SELLER).status_code == 200
        order = _order(api, currency="KWD")
    invoice = create_invoice(api, order["id"])
    assert api.get(f"/invoices/{invoice['id']}/cii").status_code == 422
    pdf = api.get(f"/invoices/{invoice['id']}/pdf")
    assert pdf.status_code == 200, pdf.text
    assert_plain(pdf.content)

    note = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"})
    note_id = note.json()["data"]["id"]
    assert api.get(f"/credit-notes/{note_id}/cii").status_code == 422
    assert_plain(api.get(f"/credit-notes/{note_id}/pdf").content)


def _factur_x_document(data: dict[str, Any]) -> InvoiceDocument:
    document = InvoiceDocument.from_api(data, locale="de_DE")
    return dataclasses.replace(document, factur_x=build_cii(data, profile="en16931"))


def test_a_factur_x_pdf_is_the_same_on_every_render_and_survives_pickling():
    """The render process gets the document pickled; the attachment's dates are the document's,
    so the same document gives the same bytes."""
    for data in (sample_invoice(), sample_credit_note()):
        document = _factur_x_document(data)
        assert document.factur_x is not None
        assert pickle.loads(pickle.dumps(document)) == document
        pdf = render_invoice_pdf(document)
        assert render_invoice_pdf(pickle.loads(pickle.dumps(document))) == pdf
        assert_factur_x(pdf, document.factur_x)
        assert_plain(render_invoice_pdf(dataclasses.replace(document, factur_x=None)))
