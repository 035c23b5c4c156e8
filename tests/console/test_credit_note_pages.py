"""The console's credit note pages (API.md, Credit notes and Admin console): list, detail with
its documents, and sending it by email."""

import email
import email.policy
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from tests.helpers import SELLER, create_invoice, create_order, line


def credit(api: Any, invoice: dict[str, Any], quantity: Any, reason: str) -> dict[str, Any]:
    response = api.post(
        f"/invoices/{invoice['id']}/credit-notes",
        json={
            "reason": reason,
            "lineItems": [{"invoiceLineId": invoice["lineItems"][0]["id"], "quantity": quantity}],
        },
    )
    assert response.status_code == 201, response.text
    note: dict[str, Any] = response.json()["data"]
    return note


def invoiced(api: Any, quantity: Any = 10, **overrides: Any) -> dict[str, Any]:
    order = create_order(
        api, lineItems=[line("Consulting hours", quantity, "120", 19)], **overrides
    )
    return create_invoice(api, order["id"])


def test_pages_need_a_session(client, api):
    note = credit(api, invoiced(api), 2, "Two hours were not worked")
    for path in ("/admin/credit-notes", f"/admin/credit-notes/{note['id']}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/sign-in?next=")
    response = client.post(
        f"/admin/credit-notes/{note['id']}/send",
        data={"to": "x@example.com"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/sign-in"


def test_the_credit_note_page(console, api):
    invoice = invoiced(api, currency="EUR")
    note = credit(api, invoice, 2, "Two hours were not worked")
    html = console.get(f"/admin/credit-notes/{note['id']}").text
    assert f"<h1>Credit note {note['number']}</h1>" in html
    assert f'<a href="/admin/invoices/{invoice["id"]}">{invoice["number"]}</a>' in html
    assert "Two hours were not worked" in html and "Consulting hours" in html
    assert "€240.00" in html and "€285.60" in html  # 2 x 120.00, + 19 %
    assert "Not sent yet" in html
    for kind in ("pdf", "ubl", "cii"):
        assert f'href="/admin/credit-notes/{note["id"]}/{kind}"' in html
    assert (
        f'<iframe class="pdf" src="/admin/credit-notes/{note["id"]}/pdf?inline=true'
        "#navpanes=0&amp;view=FitH" in html
    )
    assert '<label for="f-to">Recipient</label>' in html and ">Send credit note</button>" in html
    invoice_page = console.get(f"/admin/invoices/{invoice['id']}").text
    assert f'href="/admin/credit-notes/{note["id"]}"' in invoice_page
    missing = console.get(f"/admin/credit-notes/{'0' * 24}")
    assert missing.status_code == 404 and "Credit note not found" in missing.text


def test_its_documents(console, api):
    assert api.put("/seller", json=SELLER).status_code == 200
    buyer = {
        "name": "Acme GmbH",
        "email": "billing@acme.example",
        "address": {
            "street": "Main St 1",
            "city": "Berlin",
            "postalCode": "10115",
            "country": "DE",
        },
        "vatId": "DE987654321",
    }
    note = credit(api, invoiced(api, currency="EUR", customer=buyer), 1, "Returned")
    pdf = console.get(f"/admin/credit-notes/{note['id']}/pdf?inline=true")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("inline;")
    cii = console.get(f"/admin/credit-notes/{note['id']}/cii")
    assert cii.status_code == 200 and cii.headers["content-type"].startswith("application/xml")
    assert b"<ram:TypeCode>381</ram:TypeCode>" in cii.content
    ubl = console.get(f"/admin/credit-notes/{note['id']}/ubl")
    assert ubl.status_code == 422  # Peppol needs the buyer's electronic address: the API's 422
    assert "The credit note lacks data that EN 16931 requires" in ubl.text


def test_the_list_newest_first_with_pages_of_50(console, api):
    invoice = invoiced(api, quantity=51)
    notes = [credit(api, invoice, 1, f"Return {n:02}") for n in range(51)]
    first = console.get("/admin/credit-notes").text
    assert first.count('href="/admin/credit-notes/') == 50
    assert first.index(notes[50]["number"] + "<") < first.index(notes[49]["number"] + "<")
    assert f'<a href="/admin/invoices/{invoice["id"]}">{invoice["number"]}</a>' in first
    assert "Return 50" in first and f'"/admin/credit-notes/{notes[0]["id"]}"' not in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older', first)
    assert older, "no link to the older credit notes"
    second = console.get(urljoin("/admin/credit-notes", older.group(1))).text
    assert f'href="/admin/credit-notes/{notes[0]["id"]}"' in second
    assert second.count('href="/admin/credit-notes/') == 1 and 'rel="next"' not in second


def test_sending_it(console, api, client):
    outbox: Path = client.app.state.settings.outbox_dir
    before = set(outbox.glob("*.eml"))
    note = credit(api, invoiced(api), 2, "Two hours were not worked")
    path = f"/admin/credit-notes/{note['id']}"
    page = console.get(path).text
    assert 'name="to" type="email" value="billing@acme.example"' in page  # the customer's
    response = console.post(f"{path}/send", {"to": "ap@acme.example"}, from_page=path)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"{path}?notice=Credit%20note%20sent%20to%20ap%40acme.example"
    )
    [written] = set(outbox.glob("*.eml")) - before
    message = email.message_from_bytes(written.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ap@acme.example"
    assert [a.get_filename() for a in message.iter_attachments()] == [
        f"credit-note-{note['number']}.pdf"
    ]
    mails = api.get(f"/credit-notes/{note['id']}").json()["data"]["mailsSent"]
    assert [m["sentTo"] for m in mails] == ["ap@acme.example"]
    shown = console.get(response.headers["location"]).text
    assert 'role="status">Credit note sent to ap@acme.example<' in shown
    assert "Sent to ap@acme.example" in shown


def test_a_bad_recipient_gets_the_apis_message_next_to_it(console, api, client):
    outbox: Path = client.app.state.settings.outbox_dir
    before = set(outbox.glob("*.eml"))
    note = credit(api, invoiced(api), 2, "Two hours were not worked")
    path = f"/admin/credit-notes/{note['id']}"
    response = console.post(f"{path}/send", {"to": "nobody@"}, from_page=path)
    assert response.status_code == 400
    assert re.search(
        r'name="to" [^>]*value="nobody@"[^>]*aria-describedby="[^"]*e-to"', response.text, re.S
    )
    assert re.search(r'id="e-to" class="error">[^<]+<', response.text)
    assert set(outbox.glob("*.eml")) == before
    assert api.get(f"/credit-notes/{note['id']}").json()["data"]["mailsSent"] == []


def test_a_send_without_its_csrf_token_is_refused(console, api, client):
    outbox: Path = client.app.state.settings.outbox_dir
    before = set(outbox.glob("*.eml"))
    note = credit(api, invoiced(api), 2, "Two hours were not worked")
    for form in ({"to": "ap@acme.example"}, {"to": "ap@acme.example", "csrf": "forged"}):
        response = console.client.post(
            f"/admin/credit-notes/{note['id']}/send", data=form, follow_redirects=False
        )
        assert response.status_code == 403 and "reload the page" in response.text
    assert set(outbox.glob("*.eml")) == before
    assert api.get(f"/credit-notes/{note['id']}").json()["data"]["mailsSent"] == []
