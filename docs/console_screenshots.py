"""Take the screenshots of the admin console in docs/console/: a real server on a temporary SQLite
database, a small realistic dataset made through the public HTTP API, and Debian's Chromium signed
in to /admin (1280 px wide; one page also at a phone's 390 px).

.venv/bin/python docs/console_screenshots.py      # needs /usr/bin/chromium (make system-deps)
"""

import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invoicing.db.migrate import upgrade
from tests.helpers import SELLER
from tests.servers import Server, make_token

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parent / "console"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


class Receiver(BaseHTTPRequestHandler):
    """The shop's webhook receiver: takes every delivery."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    data: dict[str, Any] = response.json()["data"]
    return data


def closed_port() -> int:
    """A port nothing listens on (a receiver that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def seed(api: httpx.Client, hooks_url: str) -> dict[str, str]:
    """The dataset; the ids of what the screenshots show."""
    ok(api.put("/seller", json=SELLER))
    hook = ok(
        api.post(
            "/webhooks",
            json={"url": hooks_url, "events": ["*"], "description": "Web shop order sync"},
        )
    )
    erp = {
        "url": f"http://127.0.0.1:{closed_port()}/erp/invoices",
        "events": ["invoice.created", "payment.created"],
        "description": "ERP import (down for maintenance)",
    }
    erp_id = ok(api.post("/webhooks", json=erp))["id"]
    ok(api.post("/tokens", json={"name": "Web shop", "type": "api"}))
    ok(api.post("/tokens", json={"name": "Reporting export", "type": "api"}))
    old = ok(api.post("/tokens", json={"name": "Old checkout (2025)", "type": "api"}))
    ok(api.delete(f"/tokens/{old['id']}"))

    def order(customer: dict[str, Any], *lines: dict[str, Any]) -> dict[str, Any]:
        body = {"customer": customer, "currency": "EUR", "lineItems": list(lines)}
        return ok(api.post("/orders", json=body))

    def invoice(order_id: str, **body: Any) -> dict[str, Any]:
        return ok(api.post("/invoices", json={"orderId": order_id, **body}))

    def line(name: str, sku: str, quantity: Any, price: str, rate: Any = 19) -> dict[str, Any]:
        return {"name": name, "sku": sku, "quantity": quantity, "unitPrice": price, "taxRate": rate}

    lima = {
        "name": "Ana Lima Consulting",
        "email": "ana@lima.example",
        "address": "Rua Augusta 12, 1100-053 Lisboa",
    }
    acme = {
        "name": "Acme GmbH",
        "email": "billing@acme.example",
        "address": "Hauptstraße 1, 10115 Berlin",
    }
    bakery = {"name": "Bäckerei Sommer", "email": "info@sommer.example", "address": "Lindenweg 3"}
    globex = {"name": "Globex Corporation", "email": "ap@globex.example"}

    first = order(
        acme,
        line("Standing desk", "DSK-140", 4, "489.00"),
        line("Monitor arm", "ARM-2", 4, "79.90"),
        line("Delivery and assembly", "SVC-DLV", 1, "150.00"),
    )
    paid = invoice(first["id"])
    ok(api.post(f"/invoices/{paid['id']}/payments", json={"amount": paid["amountDue"]}))

    second = order(
        lima,
        line("Consulting hours", "CON-H", 10, "120.00"),
        line("Travel expenses", "TRV", 1, "86.40", 0),
    )
    partly = invoice(second["id"])
    ok(
        api.post(
            f"/invoices/{partly['id']}/payments",
            json={"amount": "500.00", "method": "bank_transfer", "reference": "SEPA 4711"},
        )
    )
    hours = next(item for item in partly["lineItems"] if item["name"] == "Consulting hours")
    note = ok(
        api.post(
            f"/invoices/{partly['id']}/credit-notes",
            json={
                "reason": "Two hours were not worked",
                "lineItems": [{"invoiceLineId": hours["id"], "quantity": 2}],
            },
        )
    )
    ok(api.post(f"/invoices/{partly['id']}/send", json={}))

    third = order(
        bakery,
        line("Espresso machine service", "SVC-ESP", 1, "240.00"),
        line("Descaler, 1 l", "DSC-1", 6, "12.50"),
    )
    invoice(third["id"])

    fourth = order(
        globex,
        line("Laptop stand", "LS-1", 25, "39.00"),
        line("USB-C dock", "DOCK-7", 25, "149.00"),
    )
    dock = next(item for item in fourth["lineItems"] if item["name"] == "USB-C dock")
    invoice(fourth["id"], lineItems=[{"lineItemId": dock["id"], "quantity": 10}])

    order(lima, line("Workshop day", "WS-D", 2, "1450.00"))
    return {
        "invoice": partly["id"],
        "order": fourth["id"],
        "credit_note": note["id"],
        "webhook": hook["id"],
        "erp": erp_id,
    }


def settled(api: httpx.Client, ids: dict[str, str], timeout: float = 30.0) -> None:
    """Wait until the shop has every event so far and the ERP has been tried for each of its
    own (the server delivers them in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shop = ok(api.get(f"/webhooks/{ids['webhook']}/deliveries", params={"limit": 100}))
        erp = ok(api.get(f"/webhooks/{ids['erp']}/deliveries", params={"limit": 100}))
        if all(row["deliveredAt"] for row in shop) and all(row["attempts"] for row in erp):
            return
        time.sleep(0.2)
    raise AssertionError(f"webhook deliveries still unsettled after {timeout} s")


def shoot(page: Page, path: str, name: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=OUT / f"{name}.png")
    print(f"docs/console/{name}.png")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'invoicing.db'}"
        upgrade(url)
        secret = make_token(url, name="Sam Nabahani")
        server = Server(
            url,
            Path(tmp) / "server",
            INVOICING_WEBHOOK_ALLOW_PRIVATE="true",
            INVOICING_INVOICE_NUMBER_FORMAT="INV-{year}-{seq:05}",
        ).start()
        try:
            with httpx.Client(
                base_url=server.url, headers={"accessToken": secret}, timeout=60
            ) as api:
                ids = seed(api, f"http://127.0.0.1:{receiver.server_address[1]}/hooks")
                settled(api, ids)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                context = browser.new_context(base_url=server.url, viewport=DESKTOP)
                page = context.new_page()
                shoot(page, "/admin/sign-in", "sign-in")
                page.get_by_label("Access token").fill(secret)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/admin")
                shoot(page, "/admin", "overview")
                shoot(page, "/admin/invoices", "invoices")
                shoot(page, f"/admin/invoices/{ids['invoice']}", "invoice")
                shoot(page, "/admin/orders", "orders")
                shoot(page, f"/admin/orders/{ids['order']}", "order")
                shoot(page, "/admin/orders/new", "new-order")
                shoot(page, f"/admin/credit-notes/{ids['credit_note']}", "credit-note")
                shoot(page, "/admin/tokens", "tokens")
                shoot(page, "/admin/webhooks", "webhooks")
                shoot(page, f"/admin/webhooks/{ids['erp']}", "webhook")
                shoot(page, "/admin/seller", "seller")
                phone = browser.new_context(
                    base_url=server.url,
                    viewport=PHONE,
                    is_mobile=True,
                    has_touch=True,
                    storage_state=context.storage_state(),
                )
                shoot(phone.new_page(), f"/admin/invoices/{ids['invoice']}", "invoice-phone")
                browser.close()
        finally:
            server.stop()
            receiver.shutdown()


if __name__ == "__main__":
    main()
