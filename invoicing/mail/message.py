"""Compose the email that carries an invoice's or a credit note's PDF."""

from __future__ import annotations

import contextlib
import html
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

import idna
from babel.dates import format_date
from babel.numbers import format_currency
from email_validator import EmailNotValidError, validate_email

from invoicing.documents.model import InvoiceDocument

INVOICE_NUMBER_HEADER = "X-Invoice-Number"
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE_FILENAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_FALLBACK_MSGID_DOMAIN = "invoicing.invalid"
_ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Bcc")


class InvalidRecipient(ValueError):
    """The recipient is not exactly one valid email address."""


def parse_recipient(value: str) -> str:
    """Validate one email address and return its normalized form, or raise InvalidRecipient."""
    if not isinstance(value, str):
        raise InvalidRecipient("The recipient must be a string")
    if _CONTROL_CHARS.search(value):
        raise InvalidRecipient("The recipient must not contain line breaks or control characters")
    candidate = value.strip()
    if not candidate:
        raise InvalidRecipient("The recipient is empty")
    if any(sep in candidate for sep in (",", ";")):
        raise InvalidRecipient("Give exactly one recipient address")
    try:
        validated = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidRecipient(f"The recipient is not a valid email address: {exc}") from exc
    normalized: str = validated.normalized
    return normalized


def wire_address(address: str) -> Address:
    """An address as it goes into a header and the SMTP envelope.

    No RFC 2047 encoded-word may stand inside an address, so: an ASCII local part at an
    internationalized domain gets the domain's IDNA form (``ap@xn--bcher-kva.example``), all
    ASCII, which any mail server takes; a non-ASCII local part has no ASCII form and stays as
    it is (``jörg@bücher.example``): it needs SMTPUTF8 (RFC 6531) and UTF-8 headers (RFC 6532).
    """
    username, _, domain = address.rpartition("@")
    if username.isascii() and not domain.isascii():
        # Without an IDNA form, the domain stays UTF-8, which SMTPUTF8 carries.
        with contextlib.suppress(idna.IDNAError):
            domain = idna.encode(domain, uts46=True).decode("ascii")
    return Address(username=username, domain=domain)


def requires_smtputf8(message: EmailMessage) -> bool:
    """True when an address of the message is not ASCII: it must then be written and sent with
    UTF-8 headers (``policy=SMTPUTF8``, the SMTPUTF8 extension), never with encoded-words."""
    values = [str(value) for name in _ADDRESS_HEADERS for value in message.get_all(name, [])]
    return any(not address.isascii() for _, address in getaddresses(values))


def _one_line(text: str) -> str:
    """Collapse whitespace (including line breaks) so text is safe in a header."""
    return " ".join(text.split())


def _msgid_domain(sender: Address) -> str:
    domain = sender.domain.strip().strip("[]")
    if domain and re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        return domain.lower()
    return _FALLBACK_MSGID_DOMAIN


def attachment_filename(number: str, *, credit_note: bool = False, extension: str = "pdf") -> str:
    """`invoice-<number>.pdf` or `credit-note-<number>.pdf` (or `.xml`), the number safe for a
    file name."""
    safe = _UNSAFE_FILENAME_CHARS.sub("-", number).strip("-.") or "document"
    return f"{'credit-note' if credit_note else 'invoice'}-{safe}.{extension}"


def _sender_header(sender: str) -> Address:
    """Accept "billing@x.com" or "Billing <billing@x.com>"; reject line breaks."""
    if _CONTROL_CHARS.search(sender):
        raise ValueError("The sender must not contain line breaks or control characters")
    display_name, address = parseaddr(sender)
    if not address or "@" not in address:
        raise ValueError(f"The sender is not a valid email address: {sender!r}")
    wire = wire_address(address)
    return Address(display_name=display_name, username=wire.username, domain=wire.domain)


def _sentence(text: str) -> str:
    """The text ended with a full stop, not two ("... from Northwind Trading Co.")."""
    return text if text.endswith(".") else f"{text}."


def _summary(doc: InvoiceDocument) -> tuple[str, list[tuple[str, str]], list[str]]:
    """What the mail says, in both its parts: the opening sentence, the facts (label, value; the
    last is emphasized) and the closing paragraphs (the payment instructions)."""
    locale, currency = doc.locale, doc.currency

    def money(amount: Decimal) -> str:
        return format_currency(amount, currency, locale=locale)

    def day(value: date) -> str:
        return format_date(value, format="long", locale=locale)

    number = _one_line(doc.number)
    seller = _one_line(doc.seller.name)
    if doc.is_credit_note:
        corrected = _one_line(doc.invoice_number or "")
        opening = f"please find attached credit note {number} from {seller}"
        opening = f"{opening}, which corrects invoice {corrected}" if corrected else opening
        facts = [("Credit note number", number)]
        if corrected:
            facts.append(("For invoice", corrected))
        facts.append(("Issue date", day(doc.issue_date)))
        if doc.reason:
            facts.append(("Reason", _one_line(doc.reason)))
        facts.append(("Amount credited", money(doc.total)))
        return _sentence(opening), facts, []

    opening = _sentence(f"please find attached invoice {number} from {seller}")
    facts = [("Invoice number", number), ("Issue date", day(doc.issue_date))]
    if doc.has_settlements:
        facts.append(("Total", money(doc.total)))
    if doc.amount_due > 0 and doc.due_date is not None:
        facts.append(("Due date", day(doc.due_date)))
    facts.append(("Amount due", money(doc.amount_due)))
    closing: list[str] = []
    if doc.amount_due <= 0:
        closing.append("Nothing is left to pay on this invoice.")
    elif doc.bank_account is not None:
        account = doc.bank_account
        by = f" by {day(doc.due_date)}" if doc.due_date is not None else ""
        holder = account.account_name or doc.seller.legal_name or doc.seller.name
        details = [f"IBAN: {account.iban_grouped}"]
        if account.bic:
            details.append(f"BIC: {account.bic}")
        details += [f"Account holder: {_one_line(holder)}", f"Reference: {number}"]
        closing.append(f"Please pay {money(doc.amount_due)}{by} to:\n" + "\n".join(details))
    return opening, facts, closing


def compose_invoice_email(
    doc: InvoiceDocument,
    pdf: bytes,
    *,
    sender: str,
    recipient: str,
    now: datetime | None = None,
) -> EmailMessage:
    """Build a multipart message for an invoice or a credit note: plain-text and HTML summary
    (the amount due, when and how to pay it; or what is credited on which invoice) plus the PDF."""
    to = wire_address(parse_recipient(recipient))
    from_ = _sender_header(sender)
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)

    seller = _one_line(doc.seller.name)
    number = _one_line(doc.number)
    opening, facts, closing = _summary(doc)

    utf8 = not (to.addr_spec.isascii() and from_.addr_spec.isascii())
    message = EmailMessage(policy=SMTPUTF8 if utf8 else SMTP)
    message["From"] = from_
    message["To"] = to
    message["Subject"] = f"{doc.title} {number} from {seller}"
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = make_msgid(domain=_msgid_domain(from_))
    message[INVOICE_NUMBER_HEADER] = number

    greeting = f"Hello {_one_line(doc.customer.name)},"
    width = max(len(label) for label, _ in facts) + 2
    text = (
        f"{greeting}\n\n{opening}\n\n"
        + "".join(f"{label + ':':<{width}}{value}\n" for label, value in facts)
        + "".join(f"\n{paragraph}\n" for paragraph in closing)
        + f"\nKind regards,\n{seller}\n"
    )
    esc = html.escape
    cell = "padding: 2px 16px 2px 0; color: #6b7280;"
    rows = "".join(
        f'<tr><td style="{cell}">{esc(label)}</td>\n<td style="text-align: right;">'
        + (f"<strong>{esc(value)}</strong>" if i == len(facts) - 1 else esc(value))
        + "</td></tr>\n"
        for i, (label, value) in enumerate(facts)
    )
    paragraphs = "".join(
        "<p>" + "<br>".join(esc(line) for line in paragraph.split("\n")) + "</p>\n"
        for paragraph in closing
    )
    html_body = f"""<!DOCTYPE html>
<html><body style="font-family: Helvetica, Arial, sans-serif; color: #1f2937; font-size: 14px;">
<p>{esc(greeting)}</p>
<p>{esc(opening)}</p>
<table style="border-collapse: collapse;">
{rows}</table>
{paragraphs}<p>Kind regards,<br>{esc(seller)}</p>
</body></html>
"""
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    message.add_attachment(
        pdf,
        maintype="application",
        subtype="pdf",
        filename=attachment_filename(doc.number, credit_note=doc.is_credit_note),
    )
    return message
