"""Take the screenshots of the API docs in docs/screenshots/: a real server on a temporary SQLite
database, and Debian's Chromium opening /docs (Swagger UI) and /redoc (ReDoc) with every request to
another host refused, as on a machine without internet (1280 x 800), each at `POST /invoices`.

.venv/bin/python docs/docs_screenshots.py      # needs /usr/bin/chromium (make system-deps)
"""

import re
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Locator, Page, Route, expect, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invoicing.db.migrate import upgrade
from tests.servers import Server

CHROMIUM = "/usr/bin/chromium"
OUT = Path(__file__).resolve().parent / "screenshots"
DESKTOP = {"width": 1280, "height": 800}


def only_the_server(route: Route) -> None:
    host = urlsplit(route.request.url).hostname
    if host is not None and host != "127.0.0.1":
        print(f"  refused: {route.request.url}")
        route.abort("internetdisconnected")
    else:
        route.continue_()


def shoot(page: Page, path: str, rendered: Locator, name: str, top: Locator | None = None) -> None:
    page.goto(path)
    expect(rendered).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    if top is not None:  # scrolled to the top of the window
        top.evaluate("element => element.scrollIntoView()")
    page.screenshot(path=OUT / f"{name}.png")
    print(f"docs/screenshots/{name}.png")


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'invoicing.db'}"
        upgrade(url)
        server = Server(url, Path(tmp) / "server").start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                context = browser.new_context(base_url=server.url, viewport=DESKTOP)
                context.route("**/*", only_the_server)
                page = context.new_page()
                # Deep links to the operation: Swagger UI opens it, ReDoc scrolls to it.
                document = httpx.get(f"{server.url}/openapi.json").json()
                create = document["paths"]["/invoices"]["post"]
                tag, operation = create["tags"][0], create["operationId"]
                shoot(
                    page,
                    f"/docs#/{tag}/{operation}",
                    page.locator('.opblock-post .opblock-summary-path[data-path="/invoices"]'),
                    "swagger-ui",
                    top=page.locator(f"#operations-tag-{tag}"),  # the tag's heading too
                )
                shoot(
                    page,
                    f"/redoc#tag/{tag}/operation/{operation}",
                    page.locator("button", has=page.locator(".http-verb.post")).filter(
                        has_text=re.compile(r"^post\s*/invoices$")
                    ),
                    "redoc",
                )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
