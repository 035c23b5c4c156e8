"""Factur-X 1.0 / ZUGFeRD 2.x: what turns the invoice's PDF into a hybrid e-invoice.

The PDF is a PDF/A-3b that embeds the document's CII (EN 16931) as `factur-x.xml`, associated
with the document (the catalog's /AF) with the relationship `Data`, and says so in its XMP
metadata: the Factur-X properties (fx:) and, since PDF/A allows only the XMP schemas it knows or
that the file describes, the PDF/A extension schema that describes them. WeasyPrint writes the
PDF/A parts itself (pdf.py); this module holds what Factur-X adds.
"""

from typing import Final

PDF_VARIANT: Final = "pdf/a-3b"
FILENAME: Final = "factur-x.xml"
RELATIONSHIP: Final = "Data"  # the XML holds the invoice's data, the PDF its presentation
DESCRIPTION: Final = "Factur-X invoice data (EN 16931)"

# The Factur-X XMP schema (Factur-X 1.0, also used by ZUGFeRD 2.1 and later).
NAMESPACE: Final = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
DOCUMENT_TYPE: Final = "INVOICE"  # an invoice or a credit note (ORDER* are Order-X's)
VERSION: Final = "1.0"
CONFORMANCE_LEVEL: Final = "EN 16931"  # the profile of build_cii(data, profile="en16931")

# One rdf:RDF element of its own, which WeasyPrint writes after its own one inside x:xmpmeta
# (its `xmp_metadata` option): the fx: properties, then the PDF/A extension schema describing them
# (each property of category "external": stated by the producer, not derived from the PDF).
_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML invoice file"),
    ("DocumentType", "The type of the hybrid document: INVOICE"),
    ("Version", "The version of the Factur-X XML schema"),
    ("ConformanceLevel", "The conformance level (profile) of the embedded Factur-X data"),
)
_PROPERTY_DESCRIPTIONS = "".join(
    f"""\
              <rdf:li rdf:parseType="Resource">
                <pdfaProperty:name>{name}</pdfaProperty:name>
                <pdfaProperty:valueType>Text</pdfaProperty:valueType>
                <pdfaProperty:category>external</pdfaProperty:category>
                <pdfaProperty:description>{description}</pdfaProperty:description>
              </rdf:li>
"""
    for name, description in _PROPERTIES
)
XMP_METADATA: Final = f"""\
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:fx="{NAMESPACE}">
    <fx:DocumentType>{DOCUMENT_TYPE}</fx:DocumentType>
    <fx:DocumentFileName>{FILENAME}</fx:DocumentFileName>
    <fx:Version>{VERSION}</fx:Version>
    <fx:ConformanceLevel>{CONFORMANCE_LEVEL}</fx:ConformanceLevel>
  </rdf:Description>
  <rdf:Description rdf:about=""
      xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
      xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
      xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
    <pdfaExtension:schemas>
      <rdf:Bag>
        <rdf:li rdf:parseType="Resource">
          <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
          <pdfaSchema:namespaceURI>{NAMESPACE}</pdfaSchema:namespaceURI>
          <pdfaSchema:prefix>fx</pdfaSchema:prefix>
          <pdfaSchema:property>
            <rdf:Seq>
{_PROPERTY_DESCRIPTIONS}\
            </rdf:Seq>
          </pdfaSchema:property>
        </rdf:li>
      </rdf:Bag>
    </pdfaExtension:schemas>
  </rdf:Description>
</rdf:RDF>
""".encode()
