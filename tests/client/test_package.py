"""The client as a package: its own `mypy --strict` and ruff pass, a user's typo is a mypy error
(and correct use is not), the sync client is what the generator makes of the async one, and the
wheel holds what a user needs (py.typed included) with compatible, unpinned dependencies."""

import email
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.client.conftest import CLIENT_ROOT

BIN = Path(sys.executable).parent
REPO = CLIENT_ROOT.parent.parent
# mypy's cache beside the repository's own (`make clean` removes it), not in clients/python.
MYPY_CACHE = REPO / ".mypy_cache" / "client"


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def mypy(path: Path) -> subprocess.CompletedProcess[str]:
    """`mypy --strict` over a user's file, with the client found on MYPYPATH."""
    return subprocess.run(
        [BIN / "mypy", "--strict", "--cache-dir", MYPY_CACHE, "--no-error-summary", path.name],
        cwd=path.parent,
        env={**os.environ, "MYPYPATH": str(CLIENT_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_clients_own_mypy_strict_passes():
    run(BIN / "mypy", "--cache-dir", MYPY_CACHE, cwd=CLIENT_ROOT)  # files: its pyproject.toml


def test_the_clients_own_ruff_passes():
    run(BIN / "ruff", "check", "--no-cache", ".", cwd=CLIENT_ROOT)


def test_the_sync_client_is_generated_from_the_async_one():
    spec = importlib.util.spec_from_file_location(
        "generate_sync", CLIENT_ROOT / "scripts" / "generate_sync.py"
    )
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.main(["--check"]) == 0, "run: python clients/python/scripts/generate_sync.py"


USER_CODE = '''
import asyncio
from decimal import Decimal

from invoicing_client import AsyncClient, Client, Invoice, webhooks


def total_due(client: Client) -> Decimal:
    return sum((i.amount_due for i in client.invoices.list(status="open")), Decimal(0))


def bill(client: Client, order_id: str) -> Invoice:
    order = client.orders.create(
        customer={"name": "Acme", "address": {"city": "Berlin", "country": "DE"}},
        line_items=[{"name": "Widget", "quantity": 30, "unit_price": Decimal("19.99")}],
        meta_fields={"po": "PO-77"},
    )
    invoice = client.invoices.create(order_id=order.id, payment_terms_days=14)
    client.payments.create(invoice.id, amount=Decimal("100.50"))
    return invoice


async def numbers(client: AsyncClient) -> list[str]:
    return [invoice.number async for invoice in client.invoices.list()]


def on_event(headers: dict[str, str], body: bytes) -> str:
    event = webhooks.verify(headers, body, "whsec_...")
    if isinstance(event, webhooks.InvoiceEvent) and event.type == "invoice.paid":
        return str(event.data.amount_due)  # narrowed: data is an Invoice
    match event:
        case webhooks.CreditNoteEvent(data=note):
            return note.number
        case webhooks.UnknownEvent(type=kind):
            return kind
    return event.id
'''


def test_correct_use_type_checks(tmp_path):
    path = tmp_path / "shop.py"
    path.write_text(USER_CODE)
    result = mypy(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("print(client.invoices.get('x').totl)", '"Invoice" has no attribute "totl"'),
        (
            "client.orders.create(customer={'name': 'A'}, "
            "line_items=[{'name': 'W', 'quantity': 1, 'unit_prize': 2}])",
            '"unit_prize"',
        ),
        ("client.payments.create('x', amount=100.5)", 'incompatible type "float"'),
        ("list(client.invoices.list(status='opne'))", "incompatible type \"Literal['opne']\""),
        ("client.invoices.create(orderId='x')", 'Unexpected keyword argument "orderId"'),
        ("x: int = client.invoices.get('x').total", 'expression has type "Decimal"'),
        ("client.credit_notes.create('x')", 'Missing named argument "reason"'),
    ],
)
def test_a_users_mistakes_are_mypy_errors(tmp_path, code, error):
    # A module name per snippet: mypy's cache knows a module by name (and size and mtime).
    path = tmp_path / f"typo_{hashlib.sha256(code.encode()).hexdigest()[:12]}.py"
    path.write_text(
        "from invoicing_client import Client\n\n\n"
        "def main(client: Client) -> None:\n" + textwrap.indent(code, "    ") + "\n"
    )
    result = mypy(path)
    assert result.returncode == 1 and error in result.stdout, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert all(":5: error:" in line for line in errors), result.stdout  # the snippet's line only


def test_a_forgotten_await_is_a_mypy_error(tmp_path):
    path = tmp_path / "forgot.py"
    path.write_text(
        "from invoicing_client import AsyncClient\n\n\n"
        "async def main(client: AsyncClient) -> None:\n"
        "    invoice = client.invoices.get('x')\n"
        "    print(invoice.total)\n"
    )
    result = mypy(path)
    assert result.returncode == 1 and '"Coroutine[' in result.stdout, result.stdout


def test_the_wheel_holds_the_typed_package_and_declares_ranges(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(
        CLIENT_ROOT,
        source,
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".*_cache", "build", "dist"),
    )
    # No build isolation: the build backend (setuptools) is in the dev environment already.
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist",
        cwd=source)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("invoicing_client-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(metadata_name))
    package = {name for name in names if not name.startswith("invoicing_client-")}
    assert package == {
        f"invoicing_client/{name}"
        for name in (
            "__init__.py", "_async_client.py", "_core.py", "_sync_client.py", "errors.py",
            "models.py", "params.py", "py.typed", "webhooks.py",
        )
    }  # fmt: skip
    assert metadata["Name"] == "invoicing-client"
    assert metadata["Requires-Python"] == ">=3.11"
    requires = sorted(metadata.get_all("Requires-Dist") or [])
    assert requires == [
        "httpx<1,>=0.27", "pydantic<3,>=2.7", "sniffio<2,>=1.3", "standardwebhooks<2,>=1.1"
    ]

    # Installed on its own (its dependencies are this environment's), it imports from there.
    target = tmp_path / "site"
    run(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
        "--target", target, wheel, cwd=tmp_path)  # fmt: skip
    where = run(
        sys.executable, "-c",
        "import invoicing_client as c; print(c.__file__); print(c.Client, c.AsyncClient)",
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(target)},
    )  # fmt: skip
    assert where.startswith(str(target / "invoicing_client" / "__init__.py"))
