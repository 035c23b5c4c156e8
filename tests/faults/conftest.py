"""Fixtures for the fault tests: fresh, migrated databases on each backend, and real server
processes over them (see tests/servers.py)."""

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from invoicing.db import create_database
from invoicing.db.migrate import upgrade
from invoicing.db.query import Query
from tests import conftest as root
from tests.servers import Server, make_token, start_all

BACKENDS = ["sqlite", "postgresql"]
# Everything but the tokens, so that a module's servers and token survive a reset.
_RESET = [Query(f"DELETE FROM {table}") for table in root.TABLES if table != "tokens"] + [
    Query("DELETE FROM counters")
]


async def _admin(sql: str) -> None:
    connection = await asyncpg.connect(root.POSTGRES_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def fresh_postgres_database() -> tuple[str, Callable[[], None]]:
    """A new, empty PostgreSQL database: (url, drop)."""
    if root._postgres_problem:
        pytest.skip(f"PostgreSQL not reachable at {root.POSTGRES_URL}")
    name = f"invoicing_faults_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return root._with_database(root.POSTGRES_URL, name), drop


def _fresh_database(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'invoicing.db'}"
        upgrade(url)
        yield url
        return
    url, drop = fresh_postgres_database()
    try:
        upgrade(url)
        yield url
    finally:
        drop()


def reset(database_url: str) -> None:
    """Delete every order, invoice and idempotency key and restart the numbering (tokens stay)."""

    async def work() -> None:
        database = create_database(database_url)
        await database.connect()
        try:
            async with database.write() as connection:
                for query in _RESET:
                    await connection.execute(query)
        finally:
            await database.close()

    asyncio.run(work())


@pytest.fixture(params=BACKENDS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database for this test alone, migrated to head; dropped afterwards."""
    yield from _fresh_database(request.param, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database shared by one test module (per backend), migrated to head."""
    yield from _fresh_database(request.param, tmp_path_factory.mktemp(request.param))


@pytest.fixture(scope="module")
def module_secret(module_database_url: str) -> str:
    return make_token(module_database_url, name="faults")


@pytest.fixture(scope="module")
def two_servers(
    module_database_url: str, module_secret: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Server]]:
    """Two server processes on the module's database, stopped when the module ends."""
    base = tmp_path_factory.mktemp("servers")
    pair = [Server(module_database_url, base / name) for name in ("a", "b")]
    try:
        yield start_all(pair)
    finally:
        for server in pair:
            server.stop()


@pytest.fixture
def backend(fresh_database_url: str) -> str:
    return "postgresql" if fresh_database_url.startswith("postgres") else "sqlite"


@pytest.fixture
def secret(fresh_database_url: str) -> str:
    """An admin token's secret on the fresh database."""
    return make_token(fresh_database_url, name="faults")


@pytest.fixture
def servers(fresh_database_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`servers(name)` starts a server process over the fresh database; all stopped at the end."""
    started: list[Server] = []

    def start(name: str = "a", **env: str) -> Server:
        server = Server(fresh_database_url, tmp_path / f"server-{name}", **env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
