"""The console's invoice pages (API.md, Invoices, Payments, Credit notes, Admin console): find an
invoice, see it, send it, record a payment, issue a credit note, download it."""

import re
from typing import Any

from tests.console.conftest import Console, csrf_of, field_error, form_key
from tests.helpers import create_invoice, create_order, line


def invoice_of(api: Any, **order: Any) -> dict[str, Any]:
    return create_invoice(api, create_order(api, **order)["id"])


def action(console: Console, invoice_id: str, path: str, **fields: str) -> Any:
    html = console.get(f"/admin/invoices/{invoice_id}").text
    data = {"csrf": csrf_of(html), "key": form_key(html), **fields}
    return console.client.post(
        f"/admin/invoices/{invoice_id}/{path}", data=data, follow_redirects=False
    )


def test_the_invoice_page(console, api):
    invoice = invoice_of(api)
    page = console.get(f"/admin/invoices/{invoice['id']}")
    assert page.status_code == 200
    html = page.text
    assert f"Invoice {invoice['number']}" in html
    assert "Acme GmbH" in html and "Widget" in html
    assert invoice["total"] == 649.18  # 30 x 19.99 = 599.70, + 8.25 % tax = 49.48
    assert "$649.18" in html and "$49.48" in html
    assert f'src="/admin/invoices/{invoice["id"]}/pdf?inline=true#navpanes=0&amp;view=FitH"' in html
    pdf = console.get(f"/admin/invoices/{invoice['id']}/pdf?inline=true")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("inline;")
    download = console.get(f"/admin/invoices/{invoice['id']}/pdf")
    assert download.headers["content-disposition"].startswith("attachment;")


def test_an_unknown_invoice_is_the_apis_404(console):
    page = console.get("/admin/invoices/" + "0" * 24)
    assert page.status_code == 404
    assert "Invoice not found" in page.text


def test_an_incomplete_e_invoice_names_what_is_missing(console, api):
    invoice = invoice_of(api)  # the default seller has no VAT id, address or bank account
    page = console.get(f"/admin/invoices/{invoice['id']}/ubl")
    assert page.status_code == 422
    assert "lacks data that EN 16931 requires" in page.text
    assert "<code>seller.vatId</code>" in page.text or "<code>seller." in page.text


def test_recording_a_payment(console, api):
    invoice = invoice_of(api)
    response = action(console, invoice["id"], "payments", amount="100.50", method="cash")
    assert response.status_code == 303
    assert response.headers["location"].endswith("notice=Payment%20recorded")
    after = api.get(f"/invoices/{invoice['id']}").json()["data"]
    assert after["paidTotal"] == 100.5 and after["status"] == "partially_paid"
    assert after["payments"][0]["method"] == "cash"
    page = console.client.get(response.headers["location"]).text
    assert "Payment recorded" in page and "partially paid" in page


def test_a_payment_form_submitted_twice_records_once(console, api):
    invoice = invoice_of(api)
    html = console.get(f"/admin/invoices/{invoice['id']}").text
    data = {"csrf": csrf_of(html), "key": form_key(html), "amount": "10"}
    for _ in range(2):
        response = console.client.post(
            f"/admin/invoices/{invoice['id']}/payments", data=data, follow_redirects=False
        )
        assert response.status_code == 303
    assert api.get(f"/invoices/{invoice['id']}").json()["data"]["paidTotal"] == 10


def test_payment_errors_are_the_apis_next_to_their_field(console, api):
    invoice = invoice_of(api)
    too_precise = action(console, invoice["id"], "payments", amount="1.005")
    assert too_precise.status_code == 400
    assert field_error(too_precise.text, "amount") == "must have at most 2 decimals for USD"
    assert 'value="1.005"' in too_precise.text  # what was typed stays
    too_much = action(console, invoice["id"], "payments", amount="1000")
    assert too_much.status_code == 409
    assert "Payment exceeds the amount due" in too_much.text
    not_a_number = action(console, invoice["id"], "payments", amount="ten")
    assert field_error(not_a_number.text, "amount") == "must be a number"
    assert api.get(f"/invoices/{invoice['id']}").json()["data"]["payments"] == []


def test_issuing_a_credit_note(console, api):
    invoice = invoice_of(api, lineItems=[line("Widget", 3, "10.00", 0), line("Gadget", 1, "5", 0)])
    first = invoice["lineItems"][0]["id"]
    response = action(
        console, invoice["id"], "credit-notes", reason="One came back", **{f"credit-{first}": "1"}
    )
    assert response.status_code == 303
    assert re.fullmatch(
        r"/admin/credit-notes/[0-9a-f]{24}\?notice=Credit%20note%20created",
        response.headers["location"],
    )
    [note] = api.get(f"/credit-notes?invoiceId={invoice['id']}").json()["data"]
    assert note["total"] == 10 and note["reason"] == "One came back"
    assert [(li["name"], li["quantity"]) for li in note["lineItems"]] == [("Widget", 1)]
    page = console.get(f"/admin/invoices/{invoice['id']}").text
    left = re.findall(r'<td class="num">([0-9.]+)</td>\s*<td class="num"><input id="credit-', page)
    assert left == ["2", "1"]  # of the Widgets 1 is credited already; the Gadget is untouched


def test_credit_note_errors_are_the_apis(console, api):
    invoice = invoice_of(api)
    line_id = invoice["lineItems"][0]["id"]
    nothing = action(console, invoice["id"], "credit-notes", reason="Oops")
    assert nothing.status_code == 400
    too_many = action(
        console, invoice["id"], "credit-notes", reason="Oops", **{f"credit-{line_id}": "31"}
    )
    assert too_many.status_code == 400
    assert "left to credit" in too_many.text
    no_reason = action(console, invoice["id"], "credit-notes", **{f"credit-{line_id}": "1"})
    assert field_error(no_reason.text, "reason") == "is required"
    assert api.get(f"/credit-notes?invoiceId={invoice['id']}").json()["data"] == []


def test_sending_the_invoice(console, api, client):
    invoice = invoice_of(api)
    outbox = client.app.state.settings.outbox_dir
    before = set(outbox.glob("*.eml"))
    response = action(console, invoice["id"], "send", to="books@acme.example")
    assert response.status_code == 303
    assert "Invoice%20sent%20to%20books%40acme.example" in response.headers["location"]
    [mail] = set(outbox.glob("*.eml")) - before
    assert "books@acme.example" in mail.read_text(errors="replace")
    sent = api.get(f"/invoices/{invoice['id']}").json()["data"]["mailsSent"]
    assert [m["sentTo"] for m in sent] == ["books@acme.example"]
    bad = action(console, invoice["id"], "send", to="not an address")
    assert bad.status_code == 400
    assert field_error(bad.text, "to")


def test_search_by_number_or_customer_and_filters(console, api):
    acme = invoice_of(api)
    other = invoice_of(api, customer={"name": "Bolt & Nut Ltd", "email": "ap@bolt.example"})
    api.post(f"/invoices/{acme['id']}/payments", json={"amount": acme["total"]})

    def numbers(query: str) -> list[str]:
        html = console.get(f"/admin/invoices{query}").text
        return re.findall(r'href="/admin/invoices/[0-9a-f]{24}">([^<]+)</a>', html)

    assert numbers(f"?q={other['number']}") == [other["number"]]
    assert numbers("?q=bolt") == [other["number"]]  # any case, any part of the customer
    assert numbers("?q=ACME") == [acme["number"]]
    assert numbers("?status=paid") == [acme["number"]]
    assert numbers("?status=open") == [other["number"]]
    assert numbers("?q=nobody") == []
    assert numbers("?q=100%25") == []  # a LIKE wildcard is taken literally


def test_the_list_pages_by_50(console, api):
    order = create_order(api, lineItems=[line("Bolt", 60, "1", 0)])
    for _ in range(55):
        create_invoice(
            api, order["id"], lineItems=[{"lineItemId": order["lineItems"][0]["id"], "quantity": 1}]
        )
    first = console.get("/admin/invoices").text
    assert first.count('href="/admin/invoices/') == 50
    older = re.search(r'href="(\?cursor=[^"]+)" rel="next"', first)
    assert older
    second = console.get("/admin/invoices" + older.group(1).replace("&amp;", "&")).text
    assert second.count('href="/admin/invoices/') == 5
    assert 'rel="next"' not in second


def test_the_overview(console, api):
    paid = invoice_of(api)
    invoice_of(api)
    api.post(f"/invoices/{paid['id']}/payments", json={"amount": 49.18})
    html = console.get("/admin").text
    # Open: both invoices, with what is left of each: 649.18 - 49.18 + 649.18.
    assert "$1,249.18" in html and "2 invoices with something due" in html
    assert "$49.18" in html and "1 payment" in html
    assert html.count('href="/admin/invoices/') >= 2
