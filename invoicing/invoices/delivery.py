"""An invoice as a document: its PDF, and its delivery by email (recorded only once accepted)."""

import asyncio
from typing import Any

from invoicing.config import Settings
from invoicing.core.errors import BadGateway, ValidationFailed
from invoicing.db.base import Database
from invoicing.documents.model import InvoiceDocument
from invoicing.documents.renderer import PdfRenderer
from invoicing.invoices import service
from invoicing.mail.delivery import MailDeliveryError, deliver
from invoicing.mail.message import InvalidRecipient, compose_invoice_email, parse_recipient
from invoicing.orders import service as orders

SEND_FAILED = "The invoice email could not be sent"


async def load(database: Database, invoice_id: str, settings: Settings) -> InvoiceDocument:
    async with database.read() as connection:
        invoice, lines = await service.get_with_lines(connection, invoice_id)
        customer = await orders.customer(connection, invoice["order_id"])
    return InvoiceDocument.from_rows(
        invoice,
        lines,
        customer,
        seller_name=settings.seller_name,
        seller_address=settings.seller_address,
        locale=settings.locale,
    )


async def send(
    database: Database,
    invoice_id: str,
    to: str | None,
    settings: Settings,
    renderer: PdfRenderer,
) -> tuple[dict[str, Any], str]:
    """Email the invoice with its PDF; only after the server accepted it is the mail recorded."""
    document = await load(database, invoice_id, settings)
    recipient = to if to is not None else document.customer_email
    if not recipient:
        raise ValidationFailed(
            "to is required: the order's customer has no email address",
            errors=[{"field": "to", "message": "is required"}],
        )
    try:
        recipient = parse_recipient(recipient)
    except InvalidRecipient as error:
        raise ValidationFailed(
            str(error), errors=[{"field": "to", "message": str(error)}]
        ) from None
    pdf = await renderer.render(document)
    message = compose_invoice_email(document, pdf, sender=settings.mail_from, recipient=recipient)
    try:
        await asyncio.to_thread(
            deliver,
            message,
            smtp_url=settings.smtp_url,
            outbox_dir=settings.outbox_dir,
            timeout=settings.smtp_timeout,
        )
    except (MailDeliveryError, OSError):
        raise BadGateway(SEND_FAILED) from None
    async with database.write() as connection:
        invoice = await service.record_sent(connection, invoice_id, recipient)
    return invoice, recipient
