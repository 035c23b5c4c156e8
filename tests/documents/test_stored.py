"""Issued documents stored once (API.md, "Issued documents"), on both databases: every answer for a
document is the stored row's bytes, with `ETag` = their SHA-256 and 304 for a matching
If-None-Match; a change to the renderer, the templates or the invoice afterwards changes nothing;
mail attaches the stored PDF; `invoicing documents verify` finds tampering and `render-missing`
fills gaps; the server renders new documents ahead without any request.

Real server processes (concurrent first requests, restarts, migrations): test_stored_servers.py.
"""

import asyncio
import email
import email.policy
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from invoicing.app import create_app
from invoicing.cli import app as cli_app
from invoicing.config import Settings, get_settings
from invoicing.core.pacing import Pacer
from invoicing.db.base import Database
from invoicing.db.query import Query
from invoicing.documents import delivery
from invoicing.documents.ahead import RenderAhead
from invoicing.documents.model import InvoiceDocument
from tests.conftest import Api, create_token, run
from tests.helpers import PUBLIC_BUYER, SELLER, create_invoice, create_order, line

CACHE_CONTROL = "private, max-age=31536000, immutable"
# Every stored format, by its path under the document and its query.
EINVOICES = [
    ("ubl", {}, "ubl"),
    ("ubl", {"profile": "xrechnung"}, "ubl-xrechnung"),
    ("cii", {}, "cii"),
    ("cii", {"profile": "xrechnung"}, "cii-xrechnung"),
]
_ROWS = Query(
    "SELECT kind, document_type, content, sha256 FROM issued_documents WHERE document_id = $1 "
    "ORDER BY kind"
)
_TAMPER = Query("UPDATE issued_documents SET content = $2 WHERE document_id = $1 AND kind = 'pdf'")

runner = CliRunner()


def stored(client: TestClient, document_id: str) -> dict[str, dict[str, Any]]:
    """The document's stored rows, by kind."""

    async def work(database: Database) -> dict[str, dict[str, Any]]:
        async with database.read() as connection:
            rows = await connection.fetch(_ROWS, document_id)
        return {row["kind"]: {**row, "content": bytes(row["content"])} for row in rows}

    result: dict[str, dict[str, Any]] = run(client, work)
    return result


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def complete_invoice(api: Api) -> dict[str, Any]:
    """An invoice whose data every e-invoice profile accepts (a German public buyer)."""
    assert api.put("/seller", json=SELLER).status_code == 200
    lines = [line("Widget", 30, "19.99", 19, sku="W-1"), line("Handbook", 2, "24.50", 7)]
    order = create_order(api, customer=PUBLIC_BUYER, currency="EUR", lineItems=lines)
    return create_invoice(api, order["id"])


def credit_note(api: Api, invoice_id: str) -> dict[str, Any]:
    response = api.post(f"/invoices/{invoice_id}/credit-notes", json={"reason": "Returned"})
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()["data"]
    return note


def check_served_as_stored(
    api: Api, client: TestClient, path: str, document_id: str, kind: str, **params: Any
) -> bytes:
    """GET twice: the same bytes, which are the stored row's, with its ETag; then 304 for the
    conditional requests that name it and 200 for those that do not."""
    first = api.get(path, params=params)
    assert first.status_code == 200, first.text
    second = api.get(path, params=params)
    assert second.content == first.content
    row = stored(client, document_id)[kind]
    assert row["content"] == first.content and row["sha256"] == sha256(first.content)
    tag = f'"{sha256(first.content)}"'
    for response in (first, second):
        assert response.headers["etag"] == tag
        assert response.headers["cache-control"] == CACHE_CONTROL
    for header in (tag, "*", f'"0123", W/{tag}', f'"a"  ,{tag}'):
        response = api.get(path, params=params, headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == tag
        assert response.headers["cache-control"] == CACHE_CONTROL
    for header in ('"0123"', f'"{sha256(b"")}"', sha256(first.content)):  # unquoted: no tag
        response = api.get(path, params=params, headers={"If-None-Match": header})
        assert response.status_code == 200 and response.content == first.content, header
    return first.content


def test_a_pdf_is_the_stored_bytes_on_every_answer(api, client):
    invoice = create_invoice(api, create_order(api)["id"])
    assert stored(client, invoice["id"]) == {}  # nothing before the first request
    path = f"/invoices/{invoice['id']}/pdf"
    pdf = check_served_as_stored(api, client, path, invoice["id"], "pdf")
    assert pdf.startswith(b"%PDF-")
    response = api.get(path)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="invoice-1.pdf"'
    assert list(stored(client, invoice["id"])) == ["pdf"]
    assert stored(client, invoice["id"])["pdf"]["document_type"] == "invoice"

    note = credit_note(api, invoice["id"])
    path = f"/credit-notes/{note['id']}/pdf"
    check_served_as_stored(api, client, path, note["id"], "pdf")
    disposition = api.get(path).headers["content-disposition"]
    assert disposition == 'attachment; filename="credit-note-CN-1.pdf"'
    assert stored(client, note["id"])["pdf"]["document_type"] == "credit_note"


def test_unknown_documents_are_404_even_when_conditional(api):
    for path in ("/invoices/693738682fa9114d9af87d29/pdf", "/credit-notes/nope/pdf"):
        response = api.get(path, headers={"If-None-Match": "*"})
        assert response.status_code == 404
        assert "etag" not in response.headers


def test_each_einvoice_is_the_stored_bytes_on_every_answer(api, client):
    invoice = complete_invoice(api)
    note = credit_note(api, invoice["id"])
    for document, base in ((invoice, "/invoices"), (note, "/credit-notes")):
        for syntax, params, kind in EINVOICES:
            path = f"{base}/{document['id']}/{syntax}"
            xml = check_served_as_stored(api, client, path, document["id"], kind, **params)
            assert xml.startswith(b"<?xml")
            response = api.get(path, params=params)
            assert response.headers["content-type"].startswith("application/xml")
            name = "invoice-1" if base == "/invoices" else "credit-note-CN-1"
            disposition = response.headers["content-disposition"]
            assert disposition == f'attachment; filename="{name}.xml"'
    assert sorted(stored(client, invoice["id"])) == ["cii", "cii-xrechnung", "ubl", "ubl-xrechnung"]


def test_an_einvoice_the_rules_refuse_is_not_stored(api, client):
    invoice = create_invoice(api, create_order(api)["id"])  # no seller profile, no addresses
    for syntax, params, _ in EINVOICES:
        response = api.get(f"/invoices/{invoice['id']}/{syntax}", params=params)
        assert response.status_code == 422, response.text
        assert "etag" not in response.headers
    assert stored(client, invoice["id"]) == {}


def test_what_happens_later_does_not_change_the_stored_bytes(api, client, monkeypatch):
    """A payment and a credit note, another locale, another renderer and other e-invoice
    builders: whatever a new render or build would make now, the stored bytes are served."""
    invoice = complete_invoice(api)
    paths = {"pdf": (f"/invoices/{invoice['id']}/pdf", {})} | {
        kind: (f"/invoices/{invoice['id']}/{syntax}", params) for syntax, params, kind in EINVOICES
    }
    first = {kind: api.get(path, params=params).content for kind, (path, params) in paths.items()}
    payment = {"amount": "100.00", "method": "sepa"}
    assert api.post(f"/invoices/{invoice['id']}/payments", json=payment).status_code == 201
    credit_note(api, invoice["id"])
    settings = client.app.state.settings
    monkeypatch.setattr(settings, "locale", "de_DE")
    rendered: list[InvoiceDocument] = []

    async def render(document: InvoiceDocument, *, token: str) -> bytes:
        rendered.append(document)
        return b"%PDF-1.7 another renderer"

    monkeypatch.setattr(client.app.state.pdf_renderer, "render", render)
    monkeypatch.setattr(delivery, "build_ubl", lambda data, profile: b"<other-ubl/>")
    monkeypatch.setattr(delivery, "build_cii", lambda data, profile: b"<other-cii/>")
    for kind, (path, params) in paths.items():
        response = api.get(path, params=params)
        assert response.content == first[kind], kind
        assert response.headers["etag"] == f'"{sha256(first[kind])}"'
    assert rendered == []  # nothing was made again
    # What a new document would get now is indeed different.
    other = complete_invoice(api)
    assert api.get(f"/invoices/{other['id']}/pdf").content == b"%PDF-1.7 another renderer"
    assert api.get(f"/invoices/{other['id']}/ubl").content == b"<other-ubl/>"
    assert rendered[0].locale == "de_DE"


def test_documents_show_the_invoice_as_issued(api, client):
    """Stored whenever it is first asked for, a document shows the invoice as it was issued:
    made before or after a payment, the same bytes (its GET shows what is left to pay)."""
    before = complete_invoice(api)
    payment = {"amount": "100.00", "method": "sepa"}
    assert api.post(f"/invoices/{before['id']}/payments", json=payment).status_code == 201
    late = api.get(f"/invoices/{before['id']}/cii").content

    async def documents(database: Database) -> tuple[bytes, bytes]:
        kind = delivery.INVOICES
        settings = client.app.state.settings
        data = await delivery.load_data(database, kind, before["id"], settings)
        issued = delivery.as_issued(kind, data)
        assert data["paidTotal"] == 100 and issued["paidTotal"] == 0
        assert issued["amountDue"] == data["total"]
        return (
            delivery.build_einvoice(kind, issued, "cii", "en16931"),
            delivery.build_einvoice(kind, data, "cii", "en16931"),
        )

    as_issued, as_now = run(client, documents)
    assert late == as_issued != as_now


def test_mail_attaches_the_stored_pdf(api, client):
    outbox: Path = client.app.state.settings.outbox_dir
    order = create_order(api, lineItems=[line("Widget", 3, "10.00"), line("Gadget", 1, 5)])
    invoice = create_invoice(api, order["id"])
    served = api.get(f"/invoices/{invoice['id']}/pdf").content
    first_line = invoice["lineItems"][0]["id"]
    body = {"reason": "Returned", "lineItems": [{"invoiceLineId": first_line, "quantity": 1}]}
    response = api.post(f"/invoices/{invoice['id']}/credit-notes", json=body)
    assert response.status_code == 201, response.text
    note = response.json()["data"]
    # Sent after a payment: still the stored bytes.
    payment = {"amount": "5.00", "method": "sepa"}
    assert api.post(f"/invoices/{invoice['id']}/payments", json=payment).status_code == 201
    assert stored(client, note["id"]) == {}  # never asked for: sending stores its PDF
    for document_id, path, name in (
        (invoice["id"], f"/invoices/{invoice['id']}", "invoice-1.pdf"),
        (note["id"], f"/credit-notes/{note['id']}", "credit-note-CN-1.pdf"),
    ):
        before = set(outbox.glob("*.eml"))
        response = api.post(f"{path}/send", json={})
        assert response.status_code == 200, response.text
        [written] = set(outbox.glob("*.eml")) - before
        message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
        [attachment] = list(message.iter_attachments())
        assert attachment.get_filename() == name
        assert attachment.get_content() == stored(client, document_id)["pdf"]["content"]
        assert attachment.get_content() == api.get(f"{path}/pdf").content
    assert stored(client, invoice["id"])["pdf"]["content"] == served


@pytest.fixture
def cli_env(client, database_url, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("INVOICING_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_verify_finds_a_tampered_document(api, client, cli_env):
    invoices = [create_invoice(api, create_order(api)["id"]) for _ in range(2)]
    for invoice in invoices:
        assert api.get(f"/invoices/{invoice['id']}/pdf").status_code == 200
    result = runner.invoke(cli_app, ["documents", "verify"])
    assert result.exit_code == 0, result.output
    assert "All 2 stored documents match their SHA-256." in result.output

    tampered = invoices[1]["id"]

    async def tamper(database: Database) -> None:
        async with database.write() as connection:
            await connection.execute(_TAMPER, tampered, b"%PDF-1.7 not what was issued")

    run(client, tamper)
    result = runner.invoke(cli_app, ["documents", "verify"])
    assert result.exit_code == 1, result.output
    [mismatch] = [row for row in result.output.splitlines() if row.startswith("MISMATCH")]
    assert f"invoice {tampered} pdf" in mismatch
    assert invoices[0]["id"] not in result.output
    assert "1 of 2 stored documents do not match their SHA-256." in result.output


def test_render_missing_fills_the_gaps(api, client, cli_env):
    first = complete_invoice(api)
    note = credit_note(api, first["id"])
    served = api.get(f"/invoices/{first['id']}/ubl").content  # stored on request
    second = create_invoice(api, create_order(api)["id"])  # no e-invoice can be made of it
    result = runner.invoke(cli_app, ["documents", "render-missing"])
    assert result.exit_code == 0, result.output
    assert "Stored the documents of 3 invoices and credit notes." in result.output
    for document in (first, note, second):
        assert f"{document['id']}: pdf" in result.output
        assert list(stored(client, document["id"])).count("pdf") == 1
    assert sorted(stored(client, first["id"])) == ["pdf", "ubl"]

    result = runner.invoke(cli_app, ["documents", "render-missing", "--einvoices"])
    assert result.exit_code == 0, result.output
    assert "Stored the documents of 2 invoices and credit notes." in result.output
    assert f"{first['id']}: ubl-xrechnung, cii, cii-xrechnung" in result.output
    assert f"{note['id']}: ubl, ubl-xrechnung, cii, cii-xrechnung" in result.output
    everything = ["cii", "cii-xrechnung", "pdf", "ubl", "ubl-xrechnung"]
    assert sorted(stored(client, first["id"])) == everything
    assert sorted(stored(client, second["id"])) == ["pdf"]  # the rules refuse its e-invoices
    assert stored(client, first["id"])["ubl"]["content"] == served
    # What it stored is what is served.
    pdf = stored(client, second["id"])["pdf"]["content"]
    assert api.get(f"/invoices/{second['id']}/pdf").content == pdf
    result = runner.invoke(cli_app, ["documents", "render-missing", "--einvoices"])
    assert "Stored the documents of 0 invoices and credit notes." in result.output
    result = runner.invoke(cli_app, ["documents", "verify"])
    assert "All 11 stored documents match their SHA-256." in result.output


@pytest.fixture
def ahead(client, database_url, outbox) -> Iterator[Api]:
    """A server (in-process) that renders ahead, looking for new documents every 50 ms."""
    settings = Settings(
        database_url=database_url,
        outbox_dir=outbox,
        smtp_url=None,
        webhook_dispatch=False,
        render_ahead=True,
        render_ahead_interval=0.05,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as server:
        token_id, secret = create_token(server)
        yield Api(server, secret, token_id)


def wait_for(condition: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_new_documents_are_rendered_ahead_without_a_request(ahead):
    invoice = complete_invoice(ahead)
    note = credit_note(ahead, invoice["id"])
    plain = create_invoice(ahead, create_order(ahead)["id"])
    everything = ["cii", "cii-xrechnung", "pdf", "ubl", "ubl-xrechnung"]
    client = ahead.client
    for document in (invoice, note):
        assert wait_for(lambda d=document: sorted(stored(client, d["id"])) == everything)
    assert wait_for(lambda: list(stored(client, plain["id"])) == ["pdf"])
    # Served from the store from then on.
    pdf = stored(client, invoice["id"])["pdf"]["content"]
    assert ahead.get(f"/invoices/{invoice['id']}/pdf").content == pdf
    assert client.app.state.render_ahead.stored >= 3


def test_a_render_ahead_gives_way_to_a_request(api, client):
    """While a request waits for a render, nothing renders ahead, and a render ahead under way
    is given up (and done later)."""
    invoice = create_invoice(api, create_order(api)["id"])

    async def work(database: Database) -> tuple[int, int, int, int]:
        started, release = asyncio.Event(), asyncio.Event()
        renders: list[str] = []

        class SlowRenderer:
            async def render(self, document: InvoiceDocument, *, token: str) -> bytes:
                renders.append(token)
                started.set()
                await release.wait()
                return b"%PDF-1.7 rendered ahead"

        settings = client.app.state.settings
        ahead = RenderAhead(database, settings, SlowRenderer(), pacer=Pacer(lambda: None))
        look = asyncio.ensure_future(ahead.round())
        await started.wait()
        with ahead.yielding():
            interrupted = await look  # given up at once, though the render never returned
            meanwhile = await ahead.round()  # a request still waits: nothing starts
        release.set()
        done = await ahead.round()
        return interrupted, meanwhile, done, len(renders)

    interrupted, meanwhile, done, renders = run(client, work)
    assert (interrupted, meanwhile, done, renders) == (0, 0, 1, 2)
    assert stored(client, invoice["id"])["pdf"]["content"] == b"%PDF-1.7 rendered ahead"
