"""Invoice documents: the data model and its PDF rendering."""

from invoicing.documents.model import DocumentLine, DocumentTax, InvoiceDocument

__all__ = ["DocumentLine", "DocumentTax", "InvoiceDocument"]
