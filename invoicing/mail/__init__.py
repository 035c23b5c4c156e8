"""Invoice email: composing messages and delivering them over SMTP or to an outbox."""

from invoicing.mail.delivery import MailDeliveryError, SmtpSettings, deliver, parse_smtp_url
from invoicing.mail.message import InvalidRecipient, compose_invoice_email, parse_recipient

__all__ = [
    "InvalidRecipient",
    "MailDeliveryError",
    "SmtpSettings",
    "compose_invoice_email",
    "deliver",
    "parse_recipient",
    "parse_smtp_url",
]
