"""GET /invoices/{id}/pdf and POST /invoices/{id}/send, with a real SMTP server."""

import email
import email.policy
import io
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader

from tests.helpers import create_invoice, create_order, line


class Inbox:
    def __init__(self, refuse: bool = False) -> None:
        self.envelopes: list = []
        self.refuse = refuse
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse:
            return "550 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp(client, monkeypatch) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings = client.app.state.settings
    monkeypatch.setattr(settings, "smtp_url", f"smtp://127.0.0.1:{controller.port}")
    try:
        yield inbox
    finally:
        controller.stop()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf(api):
    invoice = create_invoice(api, create_order(api)["id"])
    response = api.get(f"/invoices/{invoice['id']}/pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="invoice-1.pdf"' in response.headers["content-disposition"]
    text = pdf_text(response.content)
    assert re.search(r"\bNo\. 1\b", text) and "$649.18" in text and "Widget" in text
    assert api.get("/invoices/693738682fa9114d9af87d29/pdf").status_code == 404


def test_pdf_in_yen(api):
    order = create_order(api, currency="JPY", lineItems=[line("Tea", 3, 1234.5)])
    invoice = create_invoice(api, order["id"])
    assert "¥3,704" in pdf_text(api.get(f"/invoices/{invoice['id']}/pdf").content)


def test_send_to_the_customer_by_default(api, smtp):
    invoice = create_invoice(api, create_order(api)["id"])
    response = api.post(f"/invoices/{invoice['id']}/send", json={})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Invoice sent to billing@acme.example"
    [mail] = body["data"]["mailsSent"]
    assert mail["sentTo"] == "billing@acme.example"
    assert body["data"]["updatedAt"] == mail["sentAt"]
    [envelope] = smtp.envelopes
    assert envelope.rcpt_tos == ["billing@acme.example"]
    assert envelope.mail_from == "invoices@localhost"
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "Invoice 1" in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invoice-1.pdf"
    assert "$649.18" in pdf_text(attachment.get_content())
    assert api.get(f"/invoices/{invoice['id']}").json()["data"]["mailsSent"] == [mail]


def test_send_to_someone_else(api, smtp):
    invoice = create_invoice(api, create_order(api)["id"])
    response = api.post(f"/invoices/{invoice['id']}/send", json={"to": "someone@example.com"})
    assert response.json()["message"] == "Invoice sent to someone@example.com"
    assert smtp.envelopes[0].rcpt_tos == ["someone@example.com"]


def test_no_recipient_at_all(api, smtp):
    order = create_order(api, customer={"name": "No Mail Ltd"})
    invoice = create_invoice(api, order["id"])
    response = api.post(f"/invoices/{invoice['id']}/send", json={})
    assert response.status_code == 400
    assert response.json()["message"].startswith("Validation error: ")
    for bad in ("a@b.com\r\nBcc: x@y.com", "not-an-email", "a@b.com, c@d.com"):
        response = api.post(f"/invoices/{invoice['id']}/send", json={"to": bad})
        assert response.status_code == 400, bad
    assert smtp.envelopes == []


def test_refused_or_unreachable_mail_server(api, smtp, client, monkeypatch):
    invoice = create_invoice(api, create_order(api)["id"])
    smtp.refuse = True
    response = api.post(f"/invoices/{invoice['id']}/send", json={})
    assert response.status_code == 502
    assert response.json() == {"success": False, "message": "The invoice email could not be sent"}
    monkeypatch.setattr(client.app.state.settings, "smtp_url", f"smtp://127.0.0.1:{free_port()}")
    assert api.post(f"/invoices/{invoice['id']}/send", json={}).status_code == 502
    after = api.get(f"/invoices/{invoice['id']}").json()["data"]
    assert after["mailsSent"] == [] and after["updatedAt"] == invoice["updatedAt"]


def test_outbox_without_smtp(api, client):
    outbox: Path = client.app.state.settings.outbox_dir
    before = set(outbox.glob("*.eml"))
    invoice = create_invoice(api, create_order(api)["id"])
    response = api.post(f"/invoices/{invoice['id']}/send", json={})
    assert response.status_code == 200
    [written] = set(outbox.glob("*.eml")) - before
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == "billing@acme.example"
    assert [a.get_filename() for a in message.iter_attachments()] == ["invoice-1.pdf"]


def test_concurrent_sends_are_both_recorded(api, smtp):
    invoice = create_invoice(api, create_order(api)["id"])
    results = []

    def send(to: str) -> None:
        results.append(api.post(f"/invoices/{invoice['id']}/send", json={"to": to}).status_code)

    threads = [threading.Thread(target=send, args=(f"r{i}@example.com",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200, 200]
    mails = api.get(f"/invoices/{invoice['id']}").json()["data"]["mailsSent"]
    assert sorted(m["sentTo"] for m in mails) == ["r0@example.com", "r1@example.com"]
