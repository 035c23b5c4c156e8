"""What the service's long-lived processes hold (issue 15, "Lean server processes"): a server
process imports the request path, not the machinery of PDFs, e-invoices, mail, the console's
templates, the command line or the migrations, each loaded when first used; the webhook delivery
process imports what delivery needs. Imports are checked in a fresh interpreter (this one has
everything loaded), and in a real `invoicing serve` by the shared libraries it has mapped."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from invoicing.config import Settings
from invoicing.core import keys
from invoicing.db import create_database
from invoicing.db.migrate import upgrade
from invoicing.webhooks.delivery_settings import DeliverySettings
from invoicing.webhooks.dispatcher import Dispatcher
from invoicing.webhooks.signing import SecretBox
from tests.helpers import order_body
from tests.servers import Server, _env, make_token

# Packages no server process imports at its start nor on the API's request path, with what
# loads them when used.
NOT_AT_START = {
    "weasyprint": "the render processes only",
    "alembic": "`invoicing migrate` / `serve` before it becomes the server",
    "sqlalchemy": "the migrations",
    "mako": "the migrations",
    "typer": "the command line",
    "rich": "the command line, httpx's command line",
    "pygments": "rich",
    "jinja2": "the console's first page",
    "lxml": "the first e-invoice (or Factur-X PDF)",
    "httpx": "the webhook delivery process",
    "cryptography": "the first webhook secret sealed or opened",
    "schwifty": "the first IBAN or BIC validated",
    "smtplib": "the first mail sent",
    "websockets": "nothing (no WebSocket route)",
}
# ... and the delivery process none of these either.
NOT_IN_DELIVERY = {
    *NOT_AT_START.keys() - {"httpx", "cryptography"},
    "fastapi",
    "starlette",
    "prometheus_client",
    "babel",
    "click",
    "pydantic",  # the server's Settings: the delivery process gets DeliverySettings
    "pydantic_core",
    "pydantic_settings",
}
# What the supervisor of `--workers N` (which only watches uvicorn's workers) imports none of.
NOT_IN_SUPERVISOR = {
    *NOT_IN_DELIVERY - {"click"},  # uvicorn's own
    "invoicing.config",
    "watchfiles",  # uvicorn's `--reload`
    "anyio",
}


# The names of the modules imported (not those set to None, which makes their import fail).
LIST_MODULES = "import sys, json; print(json.dumps([m for m, v in sys.modules.items() if v]))"


def _imported(code: str, database_url: str) -> set[str]:
    """The top-level packages (and `invoicing`'s modules) in sys.modules after running `code` in
    a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{LIST_MODULES}"],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.splitlines()[-1])
    return {name.split(".")[0] for name in modules} | {m for m in modules if "invoicing." in m}


def test_a_server_process_starts_without_the_heavy_machinery(tmp_path: Path) -> None:
    # What `python -m invoicing.web.serve` (what `invoicing serve` becomes) runs, up to serving.
    code = "import invoicing.web.serve, invoicing.app; invoicing.app.create_app()"
    loaded = _imported(code, f"sqlite:///{tmp_path / 'invoicing.db'}")
    assert {name: NOT_AT_START[name] for name in loaded & NOT_AT_START.keys()} == {}
    assert "asyncpg" not in loaded  # the driver of the URL's database only
    assert "invoicing" in loaded and "fastapi" in loaded  # it did run


def test_the_delivery_process_imports_what_delivery_needs(tmp_path: Path) -> None:
    loaded = _imported("import invoicing.webhooks.worker", f"sqlite:///{tmp_path / 'x.db'}")
    assert loaded & NOT_IN_DELIVERY == set()
    assert "httpx" in loaded


def test_the_supervisor_of_workers_imports_uvicorn_only(tmp_path: Path) -> None:
    # What runs of `python -m invoicing.web.serve` before uvicorn.run (uvicorn's workers import
    # the module the same way, as `__mp_main__`).
    code = "import runpy; runpy.run_module('invoicing.web.serve', run_name='__mp_main__')"
    loaded = _imported(code, f"sqlite:///{tmp_path / 'x.db'}")
    assert loaded & NOT_IN_SUPERVISOR == set()
    assert "uvicorn" in loaded


def test_the_delivery_settings_carry_what_the_dispatcher_reads(tmp_path: Path) -> None:
    """The delivery process's dispatcher is made from `DeliverySettings`, not `Settings`: every
    setting it reads must be one of them, with the server's value."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        webhook_allow_private=True,
        webhook_timeout=3.5,
        webhook_concurrency=7,
        webhook_concurrency_per_endpoint=2,
        webhook_poll_interval=0.25,
    )
    sent = DeliverySettings.of(settings, "k" * 32)
    received = DeliverySettings.from_json(sent.to_json())
    assert received == sent and received.secret_key == "k" * 32

    async def make() -> Dispatcher:
        # The delivery process's own arguments (invoicing.webhooks.worker.serve).
        database = create_database(received.database_url, pool_size=2, timeout=1, durable=False)
        dispatcher = Dispatcher(database, received, SecretBox(received.secret_key))
        await dispatcher.close()
        return dispatcher

    dispatcher = asyncio.run(make())
    assert (dispatcher.capacity, dispatcher.per_endpoint, dispatcher.poll_interval) == (7, 2, 0.25)
    assert dispatcher.sender.timeout == 3.5 and dispatcher.sender.allow_private


@pytest.mark.slow
def test_invoicing_serve_becomes_a_fresh_server_process(tmp_path: Path) -> None:
    """`invoicing serve` migrates (Alembic, SQLAlchemy) and then execs the server: the same
    process id, none of that mapped, even after the API's hot paths have run."""
    url = f"sqlite:///{tmp_path / 'invoicing.db'}"
    upgrade(url)
    secret = make_token(url)
    with (
        Server(url, tmp_path / "server") as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30
        ) as api,
    ):
        order = api.post("/orders", json=order_body())
        assert order.status_code == 201, order.text
        invoice = api.post("/invoices", json={"orderId": order.json()["data"]["id"]})
        assert invoice.status_code == 201, invoice.text
        assert api.get(f"/invoices/{invoice.json()['data']['id']}").status_code == 200
        assert server.process is not None
        pid = server.process.pid
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[argv.index(b"-m") + 1] == b"invoicing.web.serve", argv
        mapped = Path(f"/proc/{pid}/maps").read_text()
        for package in ("sqlalchemy", "markupsafe", "lxml", "cryptography", "weasyprint"):
            assert f"/{package}/" not in mapped, package


@pytest.mark.parametrize("purpose", ["webhook secrets", "console sessions"])
@pytest.mark.parametrize("key", ["", "k", "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"])
def test_keys_are_derived_as_cryptography_derived_them(key: str, purpose: str) -> None:
    """HKDF in the standard library (no `cryptography` at start): the keys of secrets and sessions
    stored before are the same."""
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = f"invoicing {purpose}".encode()
    expected = HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(key.encode())
    assert keys.derive(key, purpose) == expected
    for length in (1, 32, 33, 100):
        hkdf = HKDF(algorithm=SHA256(), length=length, salt=None, info=info)
        assert keys.hkdf_sha256(key.encode(), info=info, length=length) == hkdf.derive(key.encode())
