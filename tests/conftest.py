"""One real database per backend per test run (migrated with Alembic), the real app over it, and a
clean slate for every test. PostgreSQL tests need INVOICING_TEST_POSTGRES_URL or a server on
127.0.0.1:5432; without one they are skipped, loudly, except in CI where they fail."""

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.db.base import Database
from invoicing.db.migrate import upgrade
from invoicing.db.query import Query
from invoicing.tokens import service as tokens

POSTGRES_URL = os.environ.get(
    "INVOICING_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_REQUIRED = bool(os.environ.get("CI") or os.environ.get("INVOICING_TEST_POSTGRES_URL"))
_postgres_problem: str | None = None
_skipped_postgres = 0

# Every app and server the tests make shares one secret key (PostgreSQL requires one).
TEST_SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
os.environ.setdefault("INVOICING_SECRET_KEY", TEST_SECRET_KEY)
# Issued documents are made on request only, unless a test renders them ahead on purpose
# (tests/documents/test_stored.py): background renders would make other tests' timing vary.
os.environ.setdefault("INVOICING_RENDER_AHEAD", "false")

TABLES = (
    "issued_documents",
    "webhook_deliveries",
    "webhook_events",
    "webhook_outbox",
    "webhook_endpoints",
    "idempotency_keys",
    "credit_note_mails",
    "credit_note_lines",
    "credit_notes",
    "payments",
    "seller_profile",
    "invoice_mails",
    "invoice_lines",
    "invoices",
    "order_lines",
    "orders",
    "console_sessions",
    "tokens",
)
_RESET = [Query(f"DELETE FROM {table}") for table in TABLES] + [
    Query("DELETE FROM counters")  # every sequence starts again at 1 (the upsert makes it)
]


def _check_postgres() -> str | None:
    async def probe() -> None:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
        await connection.close()

    try:
        asyncio.run(probe())
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    global _postgres_problem
    _postgres_problem = _check_postgres()
    if _postgres_problem and POSTGRES_REQUIRED:
        raise pytest.UsageError(
            f"PostgreSQL is required here (CI or INVOICING_TEST_POSTGRES_URL is set) but "
            f"{POSTGRES_URL} cannot be reached: {_postgres_problem}"
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _postgres_problem:
        terminalreporter.write_sep(
            "!",
            f"PostgreSQL tests SKIPPED: {POSTGRES_URL} not reachable ({_postgres_problem})",
            yellow=True,
        )


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    if _postgres_problem:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"invoicing_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_URL)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'invoicing.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="session")
def app_client(database_url: str, outbox: Path) -> Iterator[TestClient]:
    # The webhook dispatcher is driven by the tests that need it, on a clock of their own; the
    # documents are made on request only (tests/documents/test_stored.py renders ahead).
    settings = Settings(
        database_url=database_url,
        outbox_dir=outbox,
        smtp_url=None,
        webhook_dispatch=False,
        webhook_allow_private=True,
        render_ahead=False,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def run(client: TestClient, work: Any) -> Any:
    """Run `await work(database)` on the app's own event loop."""
    database: Database = client.app.state.database  # type: ignore[attr-defined]
    return client.portal.call(work, database)  # type: ignore[union-attr]


def create_token(
    client: TestClient, name: str = "Sam Nabahani", type: str = "admin"
) -> tuple[str, str]:
    """A new token: (id, secret)."""

    async def work(database: Database) -> tuple[str, str]:
        async with database.write() as connection:
            token, secret = await tokens.create(connection, name, type)  # type: ignore[arg-type]
        return token["id"], secret

    result: tuple[str, str] = run(client, work)
    return result


@pytest.fixture
def client(app_client: TestClient) -> TestClient:
    async def reset(database: Database) -> None:
        async with database.write() as connection:
            for query in _RESET:
                await connection.execute(query)

    run(app_client, reset)
    app_client.headers.clear()
    app_client.cookies.clear()
    return app_client


class Api:
    """The client with a token: `api.post("/orders", json=...)`."""

    def __init__(self, client: TestClient, secret: str, token_id: str) -> None:
        self.client = client
        self.secret = secret
        self.token_id = token_id

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"accessToken": self.secret, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def api(client: TestClient) -> Api:
    token_id, secret = create_token(client)
    return Api(client, secret, token_id)
