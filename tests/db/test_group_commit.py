"""SQLiteDatabase's group commit: the write blocks of one event-loop turn share one transaction,
each in a savepoint, and exit once its COMMIT has made them durable (or has failed for all)."""

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path

import httpx

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.db.migrate import upgrade
from invoicing.db.query import Query
from invoicing.db.sqlite import MAX_BLOCKS, SQLiteDatabase
from invoicing.tokens import service as tokens
from tests.helpers import order_body

_TABLE = Query("CREATE TABLE notes (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES notes (id))")
_ADD = Query("INSERT INTO notes (id, parent) VALUES ($1, $2)")
_IDS = Query("SELECT id FROM notes ORDER BY id")
_DEFER_FOREIGN_KEYS = Query("PRAGMA defer_foreign_keys = ON")

Test = Callable[[SQLiteDatabase, list[str]], Awaitable[None]]


def _run(path: Path, test: Test) -> None:
    """`test` with a connected database holding an empty `notes` table, and the COMMITs that the
    database's write connection runs from then on."""

    async def work() -> None:
        database = SQLiteDatabase(str(path), timeout=5)
        await database.connect()
        try:
            async with database.write() as connection:
                await connection.execute(_TABLE)
            commits: list[str] = []
            assert database._db is not None
            database._db.set_trace_callback(
                lambda sql: commits.append(sql) if sql == "COMMIT" else None
            )
            await test(database, commits)
        finally:
            await database.close()

    asyncio.run(work())


def _committed(path: Path) -> list[int]:
    """What another connection sees: what is committed."""
    with closing(sqlite3.connect(path)) as db:
        return [row[0] for row in db.execute("SELECT id FROM notes ORDER BY id")]


async def _add(database: SQLiteDatabase, note: int, *, fail: bool = False) -> None:
    async with database.write() as connection:
        await connection.execute(_ADD, note, None)
        if fail:
            raise ZeroDivisionError


def test_the_blocks_of_one_turn_share_one_commit_and_are_durable_when_they_exit(tmp_path):
    path = tmp_path / "group.db"

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        async def add_and_look(note: int) -> list[int]:
            await _add(database, note)
            return _committed(path)

        seen = await asyncio.gather(*(add_and_look(note) for note in (1, 2, 3)))
        assert commits == ["COMMIT"]
        assert seen == [[1, 2, 3]] * 3

    _run(path, test)


def test_a_block_that_raises_is_rolled_back_alone(tmp_path):
    path = tmp_path / "group.db"

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        outcomes = await asyncio.gather(
            _add(database, 1), _add(database, 2, fail=True), _add(database, 3),
            return_exceptions=True,
        )  # fmt: skip
        assert [type(outcome) for outcome in outcomes] == [
            type(None),
            ZeroDivisionError,
            type(None),
        ]
        assert commits == ["COMMIT"]
        assert _committed(path) == [1, 3]

    _run(path, test)


def test_when_the_first_block_of_a_turn_raises_the_next_ones_still_commit(tmp_path):
    path = tmp_path / "group.db"

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        outcomes = await asyncio.gather(
            _add(database, 1, fail=True), _add(database, 2), _add(database, 3),
            return_exceptions=True,
        )  # fmt: skip
        assert isinstance(outcomes[0], ZeroDivisionError) and outcomes[1:] == [None, None]
        assert _committed(path) == [2, 3]

    _run(path, test)


def test_reads_never_see_writes_not_yet_committed(tmp_path):
    path = tmp_path / "group.db"

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        async def read() -> list[int]:
            async with database.read() as connection:
                return [row[0] for row in await connection.fetch(_IDS)]

        # The read runs in the same turn as the write, after its block, before its COMMIT.
        _, during = await asyncio.gather(_add(database, 1), read())
        assert during == []
        assert await read() == [1]

    _run(path, test)


def test_a_commit_that_fails_fails_every_block_of_it_and_keeps_none(tmp_path):
    path = tmp_path / "group.db"

    async def orphan(database: SQLiteDatabase) -> None:
        """A row whose parent does not exist, with the check deferred to the COMMIT."""
        async with database.write() as connection:
            await connection.execute(_DEFER_FOREIGN_KEYS)
            await connection.execute(_ADD, 5, 999)

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        outcomes = await asyncio.gather(
            _add(database, 1), orphan(database), _add(database, 2), return_exceptions=True
        )
        assert [type(outcome) for outcome in outcomes] == [sqlite3.IntegrityError] * 3
        assert _committed(path) == []
        await _add(database, 3)  # the failed transaction is gone: the next one commits
        assert _committed(path) == [3]

    _run(path, test)


def test_a_turn_with_more_blocks_than_one_transaction_holds_commits_them_all(tmp_path):
    path = tmp_path / "group.db"

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        notes = range(1, MAX_BLOCKS + 6)
        await asyncio.gather(*(_add(database, note) for note in notes))
        assert commits == ["COMMIT"] * 2
        assert _committed(path) == list(notes)

    _run(path, test)


def test_a_block_that_awaits_something_real_is_a_bug_reported_to_the_next_block(tmp_path):
    path = tmp_path / "group.db"

    async def slow(database: SQLiteDatabase) -> None:
        async with database.write() as connection:
            await connection.execute(_ADD, 1, None)
            await asyncio.sleep(0.05)  # its COMMIT comes due meanwhile, and waits for it

    async def test(database: SQLiteDatabase, commits: list[str]) -> None:
        outcomes = await asyncio.gather(slow(database), _add(database, 2), return_exceptions=True)
        assert outcomes[0] is None
        assert isinstance(outcomes[1], RuntimeError)
        assert "awaited something real" in str(outcomes[1])
        assert _committed(path) == [1]

    _run(path, test)


def test_two_requests_with_one_idempotency_key_in_one_commit_make_one_invoice(
    tmp_path: Path,
) -> None:
    """The second finds the key claimed by the first in the shared transaction: once that has
    committed, it replays the first's response."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    app = create_app(Settings(database_url=url, webhook_dispatch=False))

    async def work() -> None:
        async with app.router.lifespan_context(app):
            database = app.state.database
            _, secret = await _token(database)
            transport = httpx.ASGITransport(app=app)
            headers = {"Authorization": f"Bearer {secret}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=headers
            ) as client:
                order = (await client.post("/orders", json=order_body())).json()["data"]
                commits: list[str] = []
                database._db.set_trace_callback(
                    lambda sql: commits.append(sql) if sql == "COMMIT" else None
                )
                keyed = {"Idempotency-Key": "one-key"}
                first, second = await asyncio.gather(
                    *(
                        client.post("/invoices", json={"orderId": order["id"]}, headers=keyed)
                        for _ in range(2)
                    )
                )
                assert commits == ["COMMIT"]  # both ran in one transaction
                listed = await client.get("/invoices", params={"orderId": order["id"]})
        assert (first.status_code, second.status_code) == (201, 201)
        assert first.headers.get("idempotent-replayed") is None
        assert second.headers["idempotent-replayed"] == "true"
        assert second.content == first.content
        assert [invoice["id"] for invoice in listed.json()["data"]] == [first.json()["data"]["id"]]

    asyncio.run(work())


async def _token(database: SQLiteDatabase) -> tuple[dict[str, object], str]:
    async with database.write() as connection:
        return await tokens.create(connection, "group commit", "admin")
