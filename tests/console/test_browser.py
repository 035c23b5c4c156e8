"""The console in a real browser (API.md, Admin console): Chromium, driven by Playwright, against a
real server process on each database, used as a person would use it: by the labels and the names
of buttons and links.

Chromium is Debian's (`make system-deps` installs it; Playwright's own download is not used).
Without it these tests skip, saying so, except in CI (env CI set), where they fail."""

import contextlib
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.faults.conftest import BACKENDS, _fresh_database
from tests.servers import Server, make_token

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 15_000
INVOICE_NUMBERS = "INV-{year}-{seq:05}"
ID = r"[0-9a-f]{24}"

expect.set_options(timeout=TIMEOUT_MS)


def _without_chromium() -> None:
    message = (
        f"browser tests: no Chromium at {CHROMIUM}; install Debian's with `make system-deps` "
        "(apt-get install chromium)"
    )
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        _without_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for this test alone (see tests/faults/conftest.py), made and dropped on a
    thread of its own: Playwright's sync API keeps an event loop running on this one, where
    `asyncio.run` cannot start another."""
    databases = _fresh_database(request.param, tmp_path)
    with ThreadPoolExecutor(1) as thread:
        url = thread.submit(next, databases).result()
        try:
            yield url
        finally:
            thread.submit(databases.close).result()


@dataclass
class Service:
    """A real server over the test's database, an admin token's secret and the server's outbox."""

    server: Server
    secret: str
    outbox: Path

    @property
    def url(self) -> str:
        return self.server.url

    def api(self) -> httpx.Client:
        """The JSON API with the admin token, for what the test prepares or checks behind the
        browser's back."""
        return httpx.Client(base_url=self.url, headers={"accessToken": self.secret}, timeout=30)


@pytest.fixture
def service(fresh_database_url: str, tmp_path: Path) -> Iterator[Service]:
    outbox = tmp_path / "outbox"
    server = Server(
        fresh_database_url,
        tmp_path / "server",
        INVOICING_WEBHOOK_ALLOW_PRIVATE="true",
        INVOICING_OUTBOX_DIR=str(outbox),
        INVOICING_INVOICE_NUMBER_FORMAT=INVOICE_NUMBERS,
    )
    server.launch()  # the token is made while the server starts
    try:
        secret = make_token(fresh_database_url, name="Bookkeeper")
        server.wait_healthy()
        yield Service(server, secret, outbox)
    finally:
        server.stop()
        print(f"--- server logs ---\n{server.logs()}")  # shown when the test failed


def _context(browser: Browser, service: Service) -> BrowserContext:
    context = browser.new_context(base_url=service.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, service: Service, tmp_path: Path) -> Iterator[Page]:
    context = _context(browser, service)
    page = context.new_page()
    try:
        yield page
    finally:
        with contextlib.suppress(PlaywrightError):
            shot = tmp_path / "last-page.png"
            page.screenshot(path=shot)
            print(f"the browser's last page: {page.url}, screenshot {shot}")  # shown on failure
        context.close()


def sign_in(page: Page, secret: str, path: str = "/admin") -> None:
    """Open `path` without a session, which leads to the sign-in page, and sign in there."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/admin/sign-in(\?|$)"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Access token").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def heading(page: Page) -> Locator:
    return page.get_by_role("heading", level=1)


def create_invoice_by_api(api: httpx.Client, customer: str) -> dict[str, Any]:
    item = {"name": "Widget", "quantity": 3, "unitPrice": "19.99", "taxRate": 19}
    body = {"customer": {"name": customer, "email": "ap@globex.example"}, "currency": "EUR"}
    order = api.post("/orders", json={**body, "lineItems": [item]})
    assert order.status_code == 201, order.text
    invoice = api.post("/invoices", json={"orderId": order.json()["data"]["id"]})
    assert invoice.status_code == 201, invoice.text
    created: dict[str, Any] = invoice.json()["data"]
    return created


def test_a_bookkeeper_goes_from_order_to_credit_note_and_back(page: Page, service: Service):
    with service.api() as api:
        other = create_invoice_by_api(api, "Globex Corporation")  # for the search to tell apart

    sign_in(page, service.secret)
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(heading(page)).to_have_text("Overview")
    expect(page.get_by_text("Bookkeeper")).to_be_visible()

    # A new order, through its form.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Orders").click()
    expect(heading(page)).to_contain_text("Orders")
    page.get_by_role("link", name="New order").click()
    page.get_by_label("Customer name").fill("Ana Lima Consulting")
    page.get_by_label("Customer email").fill("ana@lima.example")
    page.get_by_label("Customer address").fill("Rua Augusta 12, 1100-053 Lisboa")
    currency = page.get_by_label("Currency")
    if currency.evaluate("element => element.tagName") == "SELECT":
        currency.select_option("EUR")
    else:
        currency.fill("EUR")
    page.get_by_label("Item 1 name").fill("Consulting hours")
    page.get_by_label("Item 1 quantity").fill("10")
    page.get_by_label("Item 1 unit price").fill("120")
    page.get_by_label("Item 1 tax rate %").fill("19")
    page.get_by_role("button", name="Create order").click()

    # The order's page: invoice all of it.
    expect(page).to_have_url(re.compile(rf"/admin/orders/{ID}"))
    expect(page.get_by_text("Ana Lima Consulting").first).to_be_visible()
    page.get_by_role("button", name="Create invoice").click()

    # The invoice's page: 10 hours at 120.00 plus 19 % = 1,428.00 EUR.
    expect(page).to_have_url(re.compile(rf"/admin/invoices/{ID}"))
    invoice_url = page.url.split("?")[0]
    expect(heading(page)).to_contain_text("open")
    title = re.fullmatch(r"Invoice (\S+) .*", heading(page).inner_text().strip())
    assert title, heading(page).inner_text()
    number = title.group(1)
    assert re.fullmatch(r"INV-\d{4}-\d{5}", number) and number != other["number"]
    expect(page.get_by_text("€1,428.00").first).to_be_visible()

    # A partial payment: the status follows.
    page.get_by_label(re.compile(r"^Amount")).fill("500")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_contain_text("Payment recorded")
    expect(heading(page)).to_contain_text("partially paid")
    expect(page.get_by_text("€928.00").first).to_be_visible()

    # A credit note for two of the ten hours: its own page.
    page.get_by_label("Reason").fill("Two hours were not worked")
    page.get_by_label("Consulting hours", exact=True).fill("2")
    page.get_by_role("button", name="Issue credit note").click()
    expect(page).to_have_url(re.compile(rf"/admin/credit-notes/{ID}"))
    expect(heading(page)).to_contain_text("Credit note")
    expect(page.get_by_text("Two hours were not worked").first).to_be_visible()
    expect(page.get_by_text("€285.60").first).to_be_visible()  # 2 hours at 120.00 plus 19 %

    # Back to the invoice, and send it again to the customer.
    page.get_by_role("link", name=number, exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"{re.escape(invoice_url)}$"))
    expect(page.get_by_text("€642.40").first).to_be_visible()  # 1,428.00 - 500.00 - 285.60
    expect(page.get_by_label("Recipient")).to_have_value("ana@lima.example")
    page.get_by_role("button", name="Send invoice").click()
    expect(page.get_by_role("status")).to_contain_text("Invoice sent to ana@lima.example")
    expect(page.get_by_text(re.compile(r"^Sent to ana@lima\.example, "))).to_be_visible()
    [mail] = service.outbox.glob("*.eml")
    assert "To: ana@lima.example" in mail.read_text(errors="replace")

    # Find it by its number among the invoices.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Invoices").click()
    expect(heading(page)).to_have_text("Invoices")
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and both invoices
    page.get_by_label("Number or customer").fill(number)
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("Ana Lima Consulting")
    rows.nth(1).get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"{re.escape(invoice_url)}$"))

    # Sign out: the sign-in page, and the console is closed again.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/admin/sign-in$"))
    expect(heading(page)).to_have_text("Sign in")
    page.goto("/admin/invoices")
    expect(page).to_have_url(re.compile(r"/admin/sign-in\?next="))


def test_a_form_without_its_csrf_token_is_refused(page: Page, service: Service):
    with service.api() as api:
        invoice = create_invoice_by_api(api, "Globex Corporation")
    sign_in(page, service.secret, f"/admin/invoices/{invoice['id']}")
    expect(page.get_by_role("button", name="Record payment")).to_be_visible()
    action = f"/admin/invoices/{invoice['id']}/payments"
    payment = {"amount": "10", "key": "csrf-test"}

    # The session's cookie goes along (page.request shares the browser context's cookies).
    for form in (payment, {**payment, "csrf": "forged"}):
        refused = page.request.post(action, form=form, max_redirects=0)
        assert refused.status == 403, refused.text()
        assert "reload the page and try again" in refused.text()
    with service.api() as api:
        unchanged = api.get(f"/invoices/{invoice['id']}").json()["data"]
    assert unchanged["payments"] == [] and unchanged["status"] == "open"

    # With the token the page carries, the same request goes through: only the token was missing.
    csrf = page.locator("form[action$='/payments'] input[name=csrf]").input_value()
    accepted = page.request.post(action, form={**payment, "csrf": csrf}, max_redirects=0)
    assert accepted.status == 303, accepted.text()
    page.reload()
    expect(page.get_by_text("Paid €10.00 on")).to_be_visible()


def test_a_browser_without_the_cookie_is_sent_to_sign_in(
    browser: Browser, page: Page, service: Service
):
    sign_in(page, service.secret, "/admin/invoices")
    expect(page).to_have_url(re.compile(r"/admin/invoices$"))
    expect(heading(page)).to_have_text("Invoices")

    other = _context(browser, service)
    try:
        assert other.cookies() == []
        stranger = other.new_page()
        stranger.goto("/admin/invoices")
        expect(stranger).to_have_url(re.compile(r"/admin/sign-in\?next=%2Fadmin%2Finvoices$"))
        expect(heading(stranger)).to_have_text("Sign in")
        expect(stranger.get_by_role("button", name="Sign out")).to_have_count(0)
        # Signing in there leads back to the page asked for.
        stranger.get_by_label("Access token").fill(service.secret)
        stranger.get_by_role("button", name="Sign in").click()
        expect(stranger).to_have_url(re.compile(r"/admin/invoices$"))
    finally:
        other.close()

    page.reload()  # the first browser's session is untouched
    expect(heading(page)).to_have_text("Invoices")


def test_an_api_token_cannot_sign_in(page: Page, service: Service):
    with service.api() as api:
        created = api.post("/tokens", json={"name": "Web shop", "type": "api"})
    assert created.status_code == 201, created.text
    sign_in(page, created.json()["data"]["token"])
    expect(page).to_have_url(re.compile(r"/admin/sign-in"))
    expect(page.get_by_text("This action requires an admin access token")).to_be_visible()
    assert "invoicing_console" not in {cookie["name"] for cookie in page.context.cookies()}
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/admin/sign-in\?next="))
