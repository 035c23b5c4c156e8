"""The console's order pages (API.md, Orders, Invoices and Admin console): list, new order form,
detail, invoicing all or part of an order; every rule and message the API's."""

import re
from typing import Any
from urllib.parse import urljoin

from tests.console.conftest import Console, csrf_of, field_error, form_key
from tests.helpers import create_invoice, create_order, line

ID = "[0-9a-f]{24}"


def invoice_form(console: Console, order_id: str) -> dict[str, str]:
    """The order page's invoice form as it is filled in: its key and its prefilled quantities."""
    html = console.get(f"/admin/orders/{order_id}").text
    fields = dict(re.findall(r'name="(invoice-[0-9a-f]{24})" [^>]*value="([^"]*)"', html))
    return {"csrf": csrf_of(html), "key": form_key(html), **fields}


def new_order_form(**fields: str) -> dict[str, str]:
    form = {
        "customer.name": "Ana Lima Consulting",
        "customer.email": "ana@lima.example",
        "customer.address": "Rua Augusta 12, 1100-053 Lisboa",
        "currency": "EUR",
        "lineItems[0].name": "Consulting hours",
        "lineItems[0].quantity": "10",
        "lineItems[0].unitPrice": "120",
        "lineItems[0].taxRate": "19",
    }
    for row in range(5):
        for name in ("name", "quantity", "unitPrice", "taxRate"):
            form.setdefault(f"lineItems[{row}].{name}", "")
    form.update(fields)
    return form


def orders_of(api: Any) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = api.get("/orders", params={"limit": 100}).json()["data"]
    return data


def test_pages_need_a_session(client, api):
    order = create_order(api)
    for path in ("/admin/orders", "/admin/orders/new", f"/admin/orders/{order['id']}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/sign-in?next=")
    refused = client.post("/admin/orders", data=new_order_form(), follow_redirects=False)
    assert refused.status_code == 303 and refused.headers["location"] == "/admin/sign-in"
    assert len(orders_of(api)) == 1


def test_the_new_order_form(console, client):
    html = console.get("/admin/orders/new").text
    labels = {f: text.strip() for f, text in re.findall(r'<label for="f-([^"]+)">([^<]+)<', html)}
    assert labels["customer.name"] == "Customer name"
    assert labels["customer.email"] == "Customer email"
    assert labels["customer.address"] == "Customer address"
    assert labels["currency"] == "Currency"
    assert labels["lineItems[4].taxRate"] == "Item 5 tax rate %"
    for n in range(1, 6):
        for label in ("name", "quantity", "unit price", "tax rate %"):
            assert f"Item {n} {label}" in labels.values()
    default = client.app.state.settings.default_currency
    assert re.search(rf'name="currency" type="text" value="{default}"', html)
    assert ">Create order</button>" in html
    listed = console.get("/admin/orders").text
    assert '<a class="button" href="/admin/orders/new">New order</a>' in listed


def test_creating_an_order_from_the_form(console, api):
    form = new_order_form(
        **{
            "lineItems[2].name": "Travel expenses",
            "lineItems[2].quantity": "1",
            "lineItems[2].unitPrice": "86.40",
        }
    )
    response = console.post("/admin/orders", form, from_page="/admin/orders/new")
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    match = re.fullmatch(rf"/admin/orders/({ID})\?notice=Order%20created", location)
    assert match, location
    order = api.get(f"/orders/{match.group(1)}").json()["data"]
    assert order["customer"]["name"] == "Ana Lima Consulting"
    assert order["customer"]["email"] == "ana@lima.example"
    assert order["customer"]["address"] == "Rua Augusta 12, 1100-053 Lisboa"
    assert order["currency"] == "EUR" and order["status"] == "open"
    assert [
        (li["name"], li["quantity"], li["unitPrice"], li["taxRate"]) for li in order["lineItems"]
    ] == [
        ("Consulting hours", 10, 120, 19),
        ("Travel expenses", 1, 86.4, 0),
    ]  # the blank row between them left out
    assert order["total"] == 1514.4  # 1200 + 19 % + 86.40
    shown = console.get(location).text
    assert 'role="status">Order created<' in shown
    assert "Ana Lima Consulting" in shown and "€1,514.40" in shown


def test_a_form_submitted_twice_creates_one_order(console, api):
    html = console.get("/admin/orders/new").text
    form = {"csrf": csrf_of(html), "key": form_key(html), **new_order_form()}
    first = console.client.post("/admin/orders", data=form, follow_redirects=False)
    again = console.client.post("/admin/orders", data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == "/admin/orders?notice=Already%20submitted"
    assert len(orders_of(api)) == 1


def test_the_apis_messages_next_to_their_fields(console, api):
    form = new_order_form(
        **{
            "customer.name": "",
            "customer.email": "ana@",
            "lineItems[3].name": "Printer paper",
            "lineItems[3].quantity": "0",
            "lineItems[3].unitPrice": "4.99",
        }
    )
    response = console.post("/admin/orders", form, from_page="/admin/orders/new")
    assert response.status_code == 400
    html = response.text
    assert field_error(html, "customer.name") == "is required"
    assert "email" in field_error(html, "customer.email")
    # The API's lineItems[1] is the form's fourth row: the error is shown there, not in row 2.
    assert field_error(html, "lineItems[3].quantity") == "must be greater than 0"
    assert 'id="e-lineItems[1].quantity"' not in html
    assert 'name="lineItems[3].name" type="text" value="Printer paper"' in html  # kept
    assert orders_of(api) == []


def test_a_rule_of_the_service_next_to_its_field(console, api):
    form = new_order_form(**{"lineItems[0].taxRate": "0", "lineItems[1].name": "Rush fee"})
    form.update({"lineItems[1].quantity": "1", "lineItems[1].unitPrice": "abc"})
    response = console.post("/admin/orders", form, from_page="/admin/orders/new")
    assert response.status_code == 400
    assert field_error(response.text, "lineItems[1].unitPrice") == "must be a number"
    response = console.post(
        "/admin/orders",
        new_order_form(**{"lineItems[0].taxRate": "150"}),
        from_page="/admin/orders/new",
    )
    assert response.status_code == 400
    assert field_error(response.text, "lineItems[0].taxRate") == "must be at most 100"
    assert orders_of(api) == []


def test_an_order_needs_an_item(console, api):
    blank = {f"lineItems[0].{name}": "" for name in ("name", "quantity", "unitPrice", "taxRate")}
    response = console.post("/admin/orders", new_order_form(**blank), from_page="/admin/orders/new")
    assert response.status_code == 400
    assert 'id="e-lineItems">Items: must have at least 1 item(s)<' in response.text
    assert orders_of(api) == []


def test_a_form_without_its_csrf_token_is_refused(console, api):
    for form in (new_order_form(), {**new_order_form(), "csrf": "forged"}):
        response = console.client.post("/admin/orders", data=form, follow_redirects=False)
        assert response.status_code == 403
        assert "reload the page and try again" in response.text
    order = create_order(api)
    forged = {**invoice_form(console, order["id"]), "csrf": "forged"}
    response = console.client.post(
        f"/admin/orders/{order['id']}/invoice", data=forged, follow_redirects=False
    )
    assert response.status_code == 403
    assert len(orders_of(api)) == 1
    assert api.get("/invoices", params={"orderId": order["id"]}).json()["data"] == []


def test_the_order_page(console, api):
    order = create_order(
        api, lineItems=[line("Widget", 30, "19.99", 8.25), line("Gadget", 5, "100", 8.25)]
    )
    widget, gadget = order["lineItems"]
    html = console.get(f"/admin/orders/{order['id']}").text
    assert "<h1>Order for Acme GmbH" in html and "billing@acme.example" in html
    assert "Main St 1" in html and "$1,190.43" in html  # 599.70 + 500.00 + 8.25 %
    for item in (widget, gadget):
        name = f"invoice-{item['id']}"
        assert f'<label for="{name}">{item["name"]}</label>' in html
        assert re.search(rf'id="{name}" name="{name}" [^>]*value="{item["quantity"]}"', html)
    assert ">Quantity to invoice</th>" in html and ">Create invoice</button>" in html
    assert console.get(f"/admin/orders/{'0' * 24}").status_code == 404
    assert "Order not found" in console.get(f"/admin/orders/{'0' * 24}").text


def test_invoicing_part_of_an_order(console, api):
    order = create_order(
        api, lineItems=[line("Widget", 30, "19.99", 8.25), line("Gadget", 5, "100", 8.25)]
    )
    widget, gadget = order["lineItems"]
    form = invoice_form(console, order["id"])
    form.update({f"invoice-{widget['id']}": "10", f"invoice-{gadget['id']}": "0"})
    response = console.client.post(
        f"/admin/orders/{order['id']}/invoice", data=form, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(
        rf"/admin/invoices/({ID})\?notice=Invoice%20created", response.headers["location"]
    )
    assert match, response.headers["location"]
    invoice = api.get(f"/invoices/{match.group(1)}").json()["data"]
    assert [(li["lineItemId"], li["quantity"]) for li in invoice["lineItems"]] == [
        (widget["id"], 10)
    ]
    assert api.get(f"/orders/{order['id']}").json()["data"]["status"] == "partially_invoiced"
    html = console.get(f"/admin/orders/{order['id']}").text
    assert f'href="/admin/invoices/{invoice["id"]}">{invoice["number"]}</a>' in html
    assert re.search(rf'name="invoice-{widget["id"]}" [^>]*value="20"', html)  # what is left
    assert re.search(rf'name="invoice-{gadget["id"]}" [^>]*value="5"', html)


def test_a_second_submission_of_the_invoice_form_creates_nothing(console, api):
    order = create_order(api, lineItems=[line("Widget", 30, "19.99", 8.25)])
    form = invoice_form(console, order["id"])
    form[f"invoice-{order['lineItems'][0]['id']}"] = "3"
    path = f"/admin/orders/{order['id']}/invoice"
    first = console.client.post(path, data=form, follow_redirects=False)
    again = console.client.post(path, data=form, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].startswith("/admin/invoices/")
    assert again.headers["location"] == f"/admin/orders/{order['id']}?notice=Already%20submitted"
    [invoice] = api.get("/invoices", params={"orderId": order["id"]}).json()["data"]
    assert invoice["lineItems"][0]["quantity"] == 3


def test_more_than_is_left_shows_the_apis_message_at_its_line(console, api):
    order = create_order(api, lineItems=[line("Widget", 30, "19.99", 8.25), line("Gadget", 5, "1")])
    widget, gadget = order["lineItems"]
    form = invoice_form(console, order["id"])
    form.update({f"invoice-{widget['id']}": "0", f"invoice-{gadget['id']}": "6"})
    response = console.client.post(
        f"/admin/orders/{order['id']}/invoice", data=form, follow_redirects=False
    )
    assert response.status_code == 400
    message = f"6 exceeds the 5 left to invoice on line item {gadget['id']}"
    assert field_error(response.text, f"invoice-{gadget['id']}") == message
    assert re.search(rf'name="invoice-{gadget["id"]}" [^>]*value="6"', response.text)  # kept
    assert api.get("/invoices", params={"orderId": order["id"]}).json()["data"] == []


def test_a_fully_invoiced_order_has_no_invoice_form(console, api):
    order = create_order(api)
    invoice = create_invoice(api, order["id"])
    html = console.get(f"/admin/orders/{order['id']}").text
    assert "Create invoice" not in html and f"/admin/orders/{order['id']}/invoice" not in html
    assert "Everything ordered is invoiced." in html
    assert f'href="/admin/invoices/{invoice["id"]}"' in html
    response = console.post(
        f"/admin/orders/{order['id']}/invoice",
        {"key": "late-form"},
        from_page=f"/admin/orders/{order['id']}",
    )
    assert response.status_code == 409
    assert 'role="alert">Order is already fully invoiced<' in response.text
    assert len(api.get("/invoices", params={"orderId": order["id"]}).json()["data"]) == 1


def test_the_list_filters_by_status(console, api):
    create_order(api, customer={"name": "Open Customer"})
    invoiced = create_order(api, customer={"name": "Billed Customer"})
    create_invoice(api, invoiced["id"])
    everything = console.get("/admin/orders").text
    assert everything.index("Billed Customer") < everything.index("Open Customer")  # newest first
    only = console.get("/admin/orders?status=invoiced").text
    assert f'href="/admin/orders/{invoiced["id"]}">Billed Customer</a>' in only
    assert "Open Customer" not in only
    assert '<option value="invoiced" selected>' in only
    assert "No orders match." in console.get("/admin/orders?status=partially_invoiced").text


def test_the_list_pages_by_50(console, api):
    for n in range(51):
        create_order(api, customer={"name": f"Customer {n:02}"})
    first = console.get("/admin/orders?status=open").text
    assert first.count('href="/admin/orders/') == 50 + 1  # the rows and "New order"
    assert "Customer 50" in first and "Customer 01" in first and "Customer 00" not in first
    older = re.search(r'<a href="([^"]+)" rel="next">Older', first)
    assert older, "no link to the older orders"
    href = older.group(1).replace("&amp;", "&")
    assert href.startswith("?status=open&cursor=")
    second = console.get(urljoin("/admin/orders", href)).text
    assert "Customer 00" in second and "Customer 01" not in second
    assert 'rel="next"' not in second


def test_invoicing_nothing_is_refused(console, api):
    order = create_order(api)
    form = invoice_form(console, order["id"])
    form[f"invoice-{order['lineItems'][0]['id']}"] = "0"
    response = console.client.post(
        f"/admin/orders/{order['id']}/invoice", data=form, follow_redirects=False
    )
    assert response.status_code == 400
    assert "lineItems: give a quantity to invoice on a line" in response.text
    assert api.get("/invoices", params={"orderId": order["id"]}).json()["data"] == []


def test_the_list_finds_orders_by_customer_or_id(console, api):
    acme = create_order(api)
    bolt = create_order(api, customer={"name": "Bolt & Nut Ltd", "email": "ap@bolt.example"})

    def listed(query: str) -> list[str]:
        html = console.get(f"/admin/orders{query}").text
        return re.findall(r'href="/admin/orders/([0-9a-f]{24})"', html)

    assert listed("?q=bolt") == [bolt["id"]]  # any case, any part of the customer
    assert listed("?q=billing%40acme") == [acme["id"]]
    assert listed(f"?q={acme['id']}") == [acme["id"]]
    assert listed("?q=50%25") == []  # a LIKE wildcard is taken literally
    assert listed("?q=bolt&status=invoiced") == []
