"""Console tests over HTTP (the browser tests are in test_browser.py): a signed-in client."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import create_token

# The webhook tests' fixtures, for the console's webhook pages.
from tests.webhooks.conftest import clock, driver, public_only_app, receiver  # noqa: F401

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def field_error(html: str, name: str) -> str:
    """The error shown next to the input `name` (which the input names in aria-describedby)."""
    escaped = re.escape(name)
    assert re.search(rf'name="{escaped}"[^>]*aria-describedby="[^"]*e-{escaped}"', html, re.S), (
        f"{name} does not point to an error"
    )
    match = re.search(rf'id="e-{escaped}" class="error">([^<]*)<', html)
    assert match, f"no error next to {name}"
    return match.group(1)


def form_key(html: str) -> str:
    match = re.search(r'name="key" value="([^"]+)"', html)
    assert match, "the form has no one-time key"
    return match.group(1)


def replace_cookie(client: TestClient, value: str) -> None:
    """Put `value` in the session cookie's place (as a saved or altered copy would be)."""
    [cookie] = [c for c in client.cookies.jar if c.name == "invoicing_console"]
    client.cookies.clear()
    client.cookies.set("invoicing_console", value, domain=cookie.domain, path=cookie.path)


class Console:
    """The test client signed in to /admin."""

    def __init__(self, client: TestClient, secret: str) -> None:
        self.client = client
        self.secret = secret

    def sign_in(self, secret: str | None = None) -> Any:
        form = self.client.get("/admin/sign-in")
        return self.client.post(
            "/admin/sign-in",
            data={"token": secret or self.secret, "csrf": csrf_of(form.text), "next": "/admin"},
            follow_redirects=False,
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, follow_redirects=False, **kwargs)

    def post(self, path: str, data: dict[str, str], *, from_page: str | None = None) -> Any:
        """Submit a form as the page at `from_page` (default: `path`'s page) carries it."""
        html = self.client.get(from_page or path.rsplit("/", 1)[0]).text
        return self.client.post(path, data={"csrf": csrf_of(html), **data}, follow_redirects=False)


@pytest.fixture
def console(client: TestClient) -> Console:
    _, secret = create_token(client, "Bookkeeper", "admin")
    signed_in = Console(client, secret)
    response = signed_in.sign_in()
    assert response.status_code == 303, response.text
    return signed_in
