from __future__ import annotations

import email
import email.policy
import email.utils
import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from email.errors import NonASCIILocalPartDefect
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import idna
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from pypdf import PdfReader

from invoicing.documents.model import DocumentLine, DocumentTax, InvoiceDocument
from invoicing.documents.parties import BankAccount, Party
from invoicing.documents.pdf import render_invoice_pdf
from invoicing.mail.delivery import MailDeliveryError, deliver, parse_smtp_url
from invoicing.mail.message import InvalidRecipient, compose_invoice_email, parse_recipient

SENDER = "Northwind Billing <billing@northwind.example>"
DOC = InvoiceDocument(
    kind="invoice",
    number="42",
    issue_date=date(2025, 12, 8),
    due_date=date(2026, 1, 7),
    delivery_date=date(2025, 12, 8),
    currency="USD",
    locale="en_US",
    seller=Party(name="Northwind Trading Co.", address="400 Market St\nSan Francisco"),
    customer=Party(name="Acme <GmbH>", email="ap@acme.example"),
    order_id="6932f96b8cd64c28a4fb5873",
    lines=(
        DocumentLine(
            "Widget", "W-1", Decimal(30), Decimal("19.99"), Decimal("8.25"), Decimal("599.70")
        ),
    ),
    taxes=(DocumentTax("S", Decimal("8.25"), Decimal("599.70"), Decimal("49.48")),),
    subtotal=Decimal("599.70"),
    tax_total=Decimal("49.48"),
    total=Decimal("649.18"),
    amount_due=Decimal("649.18"),
    created_at=datetime(2025, 12, 8, 20, 43, 20, tzinfo=UTC),
)
PDF = render_invoice_pdf(DOC)


class Collector:
    def __init__(self, refuse_rcpt: str = "") -> None:
        self.envelopes: list[Envelope] = []
        self.refuse_rcpt = refuse_rcpt  # refuse addresses starting with this ("" refuses none)

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.refuse_rcpt and address.startswith(self.refuse_rcpt):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server(handler: Collector, *, smtputf8: bool = False) -> Iterator[int]:
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def _message(
    recipient: str = "ap@acme.example", sender: str = SENDER, doc: InvoiceDocument = DOC
) -> EmailMessage:
    now = datetime(2025, 12, 9, 8, 0, tzinfo=UTC)
    return compose_invoice_email(doc, PDF, sender=sender, recipient=recipient, now=now)


def _pdf_text(message: Any, filename: str = "invoice-42.pdf") -> str:
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    part = attachments[0]
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == filename
    reader = PdfReader(io.BytesIO(part.get_content()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_compose_builds_summary_and_attachment() -> None:
    message = _message()
    assert message["Subject"] == "Invoice 42 from Northwind Trading Co."
    assert message["To"] == "ap@acme.example"
    assert message["Date"] == "Tue, 09 Dec 2025 08:00:00 +0000"
    assert message["Message-ID"].endswith("@northwind.example>")
    body = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert body is not None and html is not None
    assert "$649.18" in body.get_content() and "December 8, 2025" in body.get_content()
    assert "Acme &lt;GmbH&gt;" in html.get_content()
    assert "649.18" in _pdf_text(message)


def _bodies(message: EmailMessage) -> tuple[str, str]:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    return plain.get_content(), html.get_content()


BANK = BankAccount("DE89370400440532013000", "COBADEFFXXX", "Northwind Trading GmbH")
CREDIT_NOTE = replace(
    DOC,
    kind="credit_note",
    number="CN 2026/7",
    issue_date=date(2025, 12, 20),
    due_date=None,
    delivery_date=None,
    invoice_number="42",
    reason="Two widgets returned",
    lines=(replace(DOC.lines[0], quantity=Decimal(2), amount=Decimal("39.98")),),
    taxes=(DocumentTax("S", Decimal("8.25"), Decimal("39.98"), Decimal("3.30")),),
    subtotal=Decimal("39.98"),
    tax_total=Decimal("3.30"),
    total=Decimal("43.28"),
    amount_due=Decimal(0),
    bank_account=BANK,
)


def test_invoice_email_says_what_is_due_by_when_and_where_to_pay() -> None:
    doc = replace(
        DOC, paid_total=Decimal("100.00"), amount_due=Decimal("549.18"), bank_account=BANK
    )
    message = _message(doc=doc)
    assert message["Subject"] == "Invoice 42 from Northwind Trading Co."
    assert message["X-Invoice-Number"] == "42"
    text, html = _bodies(message)
    for body in (text, html):
        assert "Due date" in body and "January 7, 2026" in body
        assert "Amount due" in body and "$549.18" in body
        assert "Please pay $549.18 by January 7, 2026" in body
        assert "IBAN: DE89 3704 0044 0532 0130 00" in body and "BIC: COBADEFFXXX" in body
        assert "Account holder: Northwind Trading GmbH" in body and "Reference: 42" in body
    assert "Amount due:     $549.18" in text  # the facts line up
    assert "from Northwind Trading Co.\n" in text  # one full stop after "Co."


def test_invoice_email_without_bank_account_gives_no_payment_instructions() -> None:
    text, html = _bodies(_message())
    assert "$649.18" in text and "January 7, 2026" in text
    assert "Please pay" not in text and "IBAN" not in text and "IBAN" not in html


def test_settled_invoice_email_asks_for_nothing() -> None:
    doc = replace(DOC, paid_total=DOC.total, amount_due=Decimal("0.00"), bank_account=BANK)
    text, _ = _bodies(_message(doc=doc))
    assert "Nothing is left to pay" in text and "Please pay" not in text
    assert "Due date" not in text


def test_credit_note_email_says_what_is_credited_on_which_invoice() -> None:
    message = _message(doc=CREDIT_NOTE)
    assert message["Subject"] == "Credit note CN 2026/7 from Northwind Trading Co."
    assert message["X-Invoice-Number"] == "CN 2026/7"
    text, html = _bodies(message)
    for body in (text, html):
        assert "credit note CN 2026/7 from Northwind Trading Co., which corrects invoice 42" in body
        assert "Amount credited" in body and "$43.28" in body
        assert "Two widgets returned" in body and "December 20, 2025" in body
        assert "Please pay" not in body and "Due date" not in body and "IBAN" not in body
    _pdf_text(message, filename="credit-note-CN-2026-7.pdf")


def test_smtp_delivery_reaches_server() -> None:
    handler = Collector()
    with smtp_server(handler) as port:
        deliver(_message(), smtp_url=f"smtp://127.0.0.1:{port}", outbox_dir=Path("unused"))
    [envelope] = handler.envelopes
    assert envelope.mail_from == "billing@northwind.example"
    assert envelope.rcpt_tos == ["ap@acme.example"]
    assert isinstance(envelope.content, bytes)
    received = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert received["Subject"] == "Invoice 42 from Northwind Trading Co."
    assert "Invoice" in _pdf_text(received) and "42" in _pdf_text(received)


def test_refused_recipient_raises() -> None:
    handler = Collector(refuse_rcpt="ap@")
    with smtp_server(handler) as port, pytest.raises(MailDeliveryError, match="did not accept"):
        deliver(_message(), smtp_url=f"smtp://127.0.0.1:{port}", outbox_dir=Path("unused"))


def test_partly_refused_recipients_raise() -> None:
    message = _message()
    message.replace_header("To", "ap@acme.example, nobody@acme.example")
    handler = Collector(refuse_rcpt="nobody@")
    refused = r"refused recipient\(s\): nobody@acme"
    with smtp_server(handler) as port, pytest.raises(MailDeliveryError, match=refused):
        deliver(message, smtp_url=f"smtp://127.0.0.1:{port}", outbox_dir=Path("unused"))


def test_unreachable_server_raises_quickly() -> None:
    port = _free_port()  # nothing listens there any more
    started = time.monotonic()
    with pytest.raises(MailDeliveryError, match="could not be reached") as info:
        deliver(
            _message(),
            smtp_url=f"smtp://u:s3cret@127.0.0.1:{port}",
            outbox_dir=Path("unused"),
            timeout=2,
        )
    assert time.monotonic() - started < 2
    assert isinstance(info.value.__cause__, OSError)
    assert "s3cret" not in str(info.value)


def test_outbox_writes_parseable_eml(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    deliver(_message(), smtp_url=None, outbox_dir=outbox)
    [written] = list(outbox.iterdir())  # no temp file left behind
    assert written.suffix == ".eml" and written.name.endswith("-invoice-42.eml")
    parsed = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "ap@acme.example"
    assert "649.18" in _pdf_text(parsed)


def test_parse_smtp_url() -> None:
    plain = parse_smtp_url("smtp://mailer%40corp:p%3Ass@mail.example")
    assert (plain.host, plain.port, plain.username, plain.password) == (
        "mail.example",
        25,
        "mailer@corp",
        "p:ss",
    )
    assert "p:ss" not in repr(plain)
    tls = parse_smtp_url("smtps://mail.example")
    assert tls.implicit_tls and tls.port == 465 and tls.username is None
    assert parse_smtp_url("smtp://127.0.0.1:2525").port == 2525
    for bad in ("http://mail.example", "mail.example:25", "smtp://", "smtp://h:99999"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


@pytest.mark.parametrize(
    "value",
    [
        "a@b.com\r\nBcc: x@y.com",
        "a@b.com\nBcc: x@y.com",
        "not-an-email",
        "a@b.com, c@d.com",
        "a@b.com; c@d.com",
        "Someone <a@b.com>",
        "",
    ],
)
def test_parse_recipient_rejects(value: str) -> None:
    with pytest.raises(InvalidRecipient):
        parse_recipient(value)


def test_parse_recipient_accepts_and_normalizes() -> None:
    assert parse_recipient("Someone@Example.com") == "Someone@example.com"
    assert parse_recipient("  ap@acme.example ") == "ap@acme.example"
    with pytest.raises(ValueError):  # InvalidRecipient is a ValueError
        compose_invoice_email(DOC, PDF, sender=SENDER, recipient="x@y.com\r\nBcc: z@w.com")


# Internationalized addresses (RFC 6530-6532). An RFC 2047 encoded-word is never allowed inside an
# address, so a non-ASCII local part is written as UTF-8 (SMTPUTF8), and an ASCII local part at
# an internationalized domain as plain ASCII, the domain in its IDNA form (no SMTPUTF8 needed).
UTF8_RECIPIENTS = ["jörg@bücher.example", "用户@例子.广告"]


def _raw_header(data: bytes, name: str) -> str:
    """A header exactly as written (unfolded), decoded as UTF-8 (RFC 6532)."""
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    [value] = [
        line[len(name) + 1 :]
        for line in head.split(b"\r\n")
        if line.startswith(b"%s:" % name.encode())
    ]
    return value.decode("utf-8").strip()


def _assert_reads_back(data: bytes, recipient: str) -> None:
    assert "=?" not in _raw_header(data, "To")  # no encoded-word in an address
    assert _raw_header(data, "To") == recipient
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert email.utils.getaddresses(parsed.get_all("To")) == [("", recipient)]
    from_text = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
    assert [a.addr_spec for a in from_text["To"].addresses] == [recipient]
    # Python flags every non-ASCII local part, legitimate under RFC 6532; nothing else.
    assert {type(d) for d in from_text["To"].defects} <= {NonASCIILocalPartDefect}
    assert parsed["Subject"] == "Invoice 42 from Northwind Trading Co."
    assert "649.18" in _pdf_text(parsed)


@pytest.mark.parametrize("recipient", UTF8_RECIPIENTS)
def test_outbox_eml_to_unicode_address_is_utf8(tmp_path: Path, recipient: str) -> None:
    assert parse_recipient(recipient) == recipient
    deliver(_message(recipient), smtp_url=None, outbox_dir=tmp_path)
    [written] = list(tmp_path.iterdir())
    _assert_reads_back(written.read_bytes(), recipient)


def test_outbox_eml_to_unicode_domain_is_plain_ascii(tmp_path: Path) -> None:
    deliver(_message("ap@Bücher.example"), smtp_url=None, outbox_dir=tmp_path)
    [written] = list(tmp_path.iterdir())
    data = written.read_bytes()
    assert data.isascii()
    _assert_reads_back(data, "ap@xn--bcher-kva.example")
    assert idna.decode("xn--bcher-kva.example") == "bücher.example"


def test_unicode_sender_domain_is_written_as_idna(tmp_path: Path) -> None:
    message = _message(sender="Bücher & Söhne <rechnung@bücher.example>")
    deliver(message, smtp_url=None, outbox_dir=tmp_path)
    [written] = list(tmp_path.iterdir())
    data = written.read_bytes()
    assert data.isascii()
    assert "rechnung@xn--bcher-kva.example>" in _raw_header(data, "From")
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Bücher & Söhne",
        "rechnung@xn--bcher-kva.example",
    )
    assert parsed["Message-ID"].endswith("@xn--bcher-kva.example>")
    assert not parsed["From"].defects


@pytest.mark.parametrize("recipient", UTF8_RECIPIENTS)
def test_smtp_delivery_to_unicode_address_uses_smtputf8(recipient: str) -> None:
    handler = Collector()
    with smtp_server(handler, smtputf8=True) as port:
        deliver(_message(recipient), smtp_url=f"smtp://127.0.0.1:{port}", outbox_dir=Path("x"))
    [envelope] = handler.envelopes
    assert envelope.smtp_utf8 and envelope.rcpt_tos == [recipient]
    assert envelope.mail_from == "billing@northwind.example"
    assert isinstance(envelope.content, bytes)
    _assert_reads_back(envelope.content, recipient)


def test_smtp_delivery_to_unicode_domain_needs_no_smtputf8() -> None:
    handler = Collector()
    with smtp_server(handler) as port:  # a server without SMTPUTF8
        deliver(
            _message("ap@bücher.example"), smtp_url=f"smtp://127.0.0.1:{port}", outbox_dir=Path("x")
        )
    [envelope] = handler.envelopes
    assert not envelope.smtp_utf8 and envelope.rcpt_tos == ["ap@xn--bcher-kva.example"]
    assert isinstance(envelope.content, bytes) and envelope.content.isascii()
    _assert_reads_back(envelope.content, "ap@xn--bcher-kva.example")


def test_smtp_server_without_smtputf8_refuses_unicode_local_part() -> None:
    handler = Collector()
    with smtp_server(handler) as port, pytest.raises(MailDeliveryError, match="SMTPUTF8"):
        deliver(
            _message("jörg@bücher.example"),
            smtp_url=f"smtp://127.0.0.1:{port}",
            outbox_dir=Path("x"),
        )
    assert handler.envelopes == []
