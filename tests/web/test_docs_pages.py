"""The API docs work offline: /docs (Swagger UI) and /redoc (ReDoc) load every script, stylesheet,
icon and the OpenAPI document from the service itself (the assets of the fastapi-offline package),
need no token, and render in a browser that can reach nothing but the service. `GET /` points a
newcomer at them."""

import os
import re
from base64 import b64encode
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from invoicing.db.migrate import upgrade
from tests.conftest import Api
from tests.console.test_browser import CHROMIUM, TIMEOUT_MS, _without_chromium
from tests.servers import Server

PAGES = ("/docs", "/redoc")
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}
FRONT_DOOR = {"docs", "redoc", "openapi", "console", "health"}
# ReDoc's side menu ends in "API docs by Redocly" with the company's logo from its CDN, hard-coded
# in the bundle. The pages' Content-Security-Policy refuses it before it leaves the browser; the
# footer then shows its text alone. Nothing else may even be tried.
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

Get = Callable[[str], httpx.Response]


def package_file(name: str) -> bytes:
    return files("fastapi_offline").joinpath("static", name).read_bytes()


def inline_scripts(html: str) -> list[str]:
    return [str(s) for s in lxml.html.fromstring(html).xpath("//script[not(@src)]/text()")]


def page_urls(html: str) -> list[str]:
    """Every URL the page loads: scripts, stylesheets and icons, images, ReDoc's spec-url, and
    every URL-like string (quoted, starting with / or holding ://) in its inline scripts."""
    tree = lxml.html.fromstring(html)
    urls = [
        str(url)
        for url in tree.xpath("//script/@src | //link/@href | //img/@src | //redoc/@spec-url")
    ]
    for script in inline_scripts(html):
        urls += re.findall(r"""['"]((?:/|[a-z]+://)[^'"]*)['"]""", script)
    return urls


def check_docs_pages(get: Get) -> None:
    """Fetch /docs and /redoc without a token, and everything they load, with `get`."""
    for page in PAGES:
        response = get(page)
        assert response.status_code == 200, (page, response.text)
        assert response.headers["content-type"].startswith("text/html")
        html = response.text
        # Not one absolute or protocol-relative URL anywhere in the page.
        assert not re.search(r"https?:|//", html), html
        urls = page_urls(html)
        assert "/openapi.json" in urls, urls
        scripts = [url for url in urls if urlsplit(url).path.endswith(".js")]
        assert len(scripts) == 1, urls
        policy = response.headers["content-security-policy"]
        for script in inline_scripts(html):  # the only inline scripts that may run
            if script.strip():
                assert f"'sha256-{b64encode(sha256(script.encode()).digest()).decode()}'" in policy
        for url in urls:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, (page, url)
            assert parts.path.startswith("/"), (page, url)
            loaded = get(url)
            assert loaded.status_code == 200, (page, url, loaded.text[:200])
            assert loaded.content, (page, url)
            content_type = loaded.headers["content-type"]
            if parts.path == "/openapi.json":
                assert content_type == "application/json"
                assert "/invoices" in loaded.json()["paths"]
                continue
            assert parts.path.startswith("/docs/assets/"), (page, url)
            assert content_type.startswith(TYPES[Path(parts.path).suffix]), (url, content_type)
            assert loaded.content == package_file(Path(parts.path).name), url
            assert "immutable" in loaded.headers["cache-control"]


def check_front_door(get: Get) -> None:
    response = get("/")
    assert response.status_code == 200, response.text
    door = response.json()
    assert door["name"] == "Invoicing"
    assert door["version"]
    assert door["docs"] == "/docs"
    assert door["redoc"] == "/redoc"
    assert door["openapi"] == "/openapi.json"
    assert door.keys() >= FRONT_DOOR
    for key in FRONT_DOOR:
        assert get(door[key]).status_code == 200, (key, door[key])  # redirects followed


# Through the app, on each database.


def test_docs_pages_load_only_the_services_own_assets(client: TestClient) -> None:
    check_docs_pages(client.get)


def test_the_front_door_points_at_the_docs_without_a_token(client: TestClient) -> None:
    check_front_door(client.get)
    operation = client.get("/openapi.json").json()["paths"]["/"]["get"]
    assert operation["security"] == []
    assert operation["tags"] == ["operations"]


def test_assets_are_sent_gzipped_to_who_asks(client: TestClient) -> None:
    body = package_file("swagger-ui-bundle.js")
    zipped = client.get("/docs/assets/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(body) / 2
    assert zipped.content == body  # decoded by httpx
    assert zipped.headers["vary"] == "Accept-Encoding"
    for refused in ("identity", "gzip;q=0", ""):
        plain = client.get(
            "/docs/assets/swagger-ui-bundle.js", headers={"Accept-Encoding": refused}
        )
        assert "content-encoding" not in plain.headers, refused
        assert plain.content == body
    icon = client.get("/docs/assets/favicon.png", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in icon.headers
    assert icon.content == package_file("favicon.png")


def test_only_the_known_assets_are_public(client: TestClient, api: Api) -> None:
    for path in ("/docs/assets/nope.js", "/docs/assets/", "/docs/oauth2-redirect", "/docs/"):
        response = client.get(path)
        assert response.status_code == 401, (path, response.text)
        with_token = api.get(path)
        assert with_token.status_code == 404, (path, with_token.text)


# A real server process (SQLite: the pages do not touch the database).


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("docs")
    url = f"sqlite:///{directory / 'invoicing.db'}"
    # On a thread of its own: Playwright's sync API keeps an event loop running on this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(upgrade, url).result()
    server = Server(url, directory / "server").start()
    try:
        yield server
    finally:
        server.stop()
        print(f"--- server logs ---\n{server.logs()}")  # shown when a test failed


@pytest.mark.slow
def test_docs_pages_from_a_real_server(server: Server) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as http:
        check_docs_pages(http.get)
        check_front_door(http.get)


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


@dataclass
class Offline:
    """A page that can reach the server and nothing else; what it tried to reach elsewhere, and
    what went wrong in it (console errors, uncaught exceptions)."""

    page: Page
    elsewhere: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def refused_by_policy(self) -> list[str]:
        refused: list[str] = self.page.evaluate("window.__refused")
        return refused


_RECORD_REFUSALS = """
window.__refused = [];
document.addEventListener("securitypolicyviolation", (event) => {
    window.__refused.push(event.blockedURI + " (" + event.effectiveDirective + ")");
});
"""


@pytest.fixture
def offline(browser: Browser, server: Server, tmp_path: Path) -> Iterator[Offline]:
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    state = Offline(page)

    def only_the_server(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host is not None and host != "127.0.0.1":
            state.elsewhere.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route("**/*", only_the_server)
    page.add_init_script(_RECORD_REFUSALS)
    page.on("console", lambda m: state.problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: state.problems.append(f"uncaught: {error}"))
    try:
        yield state
    finally:
        shot = tmp_path / "last-page.png"
        page.screenshot(path=shot)
        print(f"the browser's last page: {page.url}, screenshot {shot}")  # shown on failure
        context.close()


@pytest.mark.slow
def test_swagger_ui_renders_and_tries_a_request_offline(offline: Offline) -> None:
    page = offline.page
    page.goto("/docs")
    create = page.locator('.opblock-post .opblock-summary-path[data-path="/invoices"]')
    expect(create).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoicing"))).to_be_visible()
    # Try it out: the page calls the API from the browser (GET /health needs no token).
    health = page.locator(".opblock-get").filter(
        has=page.locator('.opblock-summary-path[data-path="/health"]')
    )
    health.locator(".opblock-summary-control").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()
    expect(
        health.locator(".live-responses-table td.response-col_status:not(.col_header)")
    ).to_have_text("200")
    assert offline.elsewhere == []
    assert offline.refused_by_policy() == []
    assert offline.problems == []


@pytest.mark.slow
def test_redoc_renders_and_searches_offline(offline: Offline) -> None:
    page = offline.page
    page.goto("/redoc")
    create = page.locator("button", has=page.locator(".http-verb.post")).filter(
        has_text=re.compile(r"^post\s*/invoices$")
    )
    expect(create).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoicing"))).to_be_visible()
    # The search runs in a worker (made from a blob, which the policy allows).
    page.get_by_placeholder("Search...").fill("credit note")
    expect(page.locator('[data-role="search:results"] li').first).to_be_visible()
    assert offline.elsewhere == []
    assert offline.refused_by_policy() in ([], [f"{REDOCLY_LOGO} (img-src)"])
    assert [p for p in offline.problems if REDOCLY_LOGO not in p] == []
