"""Issued documents through real server processes (`invoicing serve`), on both databases: two
servers answering the first requests for a PDF at the same moment serve the same bytes and store
one row; the bytes stay across a restart, a migration run, and a renderer setting that would
render them differently now.

The two servers write dates and amounts in different locales, so each one's own render differs
from the other's: equal answers mean that the one whose INSERT lost served the winner's row.
"""

import asyncio
import hashlib
import threading
from pathlib import Path

import httpx
import pytest

from invoicing.db import create_database
from invoicing.db.query import Query
from tests.helpers import create_invoice, create_order
from tests.servers import Clients, Server, cli, make_token, start_all

pytestmark = pytest.mark.slow

_ROWS = Query("SELECT kind, content, sha256 FROM issued_documents WHERE document_id = $1")


def rows(database_url: str, document_id: str) -> list[tuple[str, bytes, str]]:
    async def work() -> list[tuple[str, bytes, str]]:
        database = create_database(database_url)
        await database.connect()
        try:
            async with database.read() as connection:
                found = await connection.fetch(_ROWS, document_id)
        finally:
            await database.close()
        return [(row["kind"], bytes(row["content"]), row["sha256"]) for row in found]

    return asyncio.run(work())


def at_once(clients: dict[str, httpx.Client], path: str) -> dict[str, httpx.Response]:
    """GET `path` from each client at the same moment."""
    barrier = threading.Barrier(len(clients))
    answers: dict[str, httpx.Response] = {}

    def fetch(name: str, client: httpx.Client) -> None:
        barrier.wait(timeout=10)
        answers[name] = client.get(path)

    threads = [threading.Thread(target=fetch, args=item) for item in clients.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


class Api:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.post(path, **kwargs)  # type: ignore[arg-type]


def test_first_requests_on_two_servers_store_one_pdf_kept_across_restarts(
    database_url: str, tmp_path: Path
) -> None:
    secret = make_token(database_url, name="stored")
    english = Server(database_url, tmp_path / "a", INVOICING_LOCALE="en_US")
    german = Server(database_url, tmp_path / "b", INVOICING_LOCALE="de_DE")
    start_all([english, german])
    try:
        with Clients(secret) as clients:
            a, b = clients.get(english.url), clients.get(german.url)
            # Each server's render process is up (it loads WeasyPrint first).
            for client in (a, b):
                warm = create_invoice(Api(client), create_order(Api(client))["id"])
                assert client.get(f"/invoices/{warm['id']}/pdf").status_code == 200
            for attempt in range(3):
                invoice = create_invoice(Api(a), create_order(Api(a))["id"])
                path = f"/invoices/{invoice['id']}/pdf"
                answers = at_once({"a": a, "b": b}, path)
                assert answers["a"].status_code == answers["b"].status_code == 200
                assert answers["a"].content == answers["b"].content, f"attempt {attempt}"
                assert answers["a"].headers["etag"] == answers["b"].headers["etag"]
                [(kind, content, sha256)] = rows(database_url, invoice["id"])
                assert kind == "pdf" and content == answers["a"].content
                assert sha256 == hashlib.sha256(content).hexdigest()
                assert answers["a"].headers["etag"] == f'"{sha256}"'
            cii_before = a.get(f"/invoices/{invoice['id']}/cii")  # 422 or stored: either way
        # The requests did meet: a render lost the race, and its server served the winner's.
        lost = "was stored first by another request"
        assert lost in english.logs() + german.logs()
        english.stop()
        cli(database_url, "migrate")  # an upgrade run: nothing to do, nothing touched
        # Back with another locale: a new render would differ; the stored bytes do not.
        restarted = Server(database_url, tmp_path / "c", INVOICING_LOCALE="de_CH")
        restarted.start()
        try:
            with Clients(secret) as clients:
                c = clients.get(restarted.url)
                again = c.get(path)
                assert again.status_code == 200 and again.content == content
                assert again.headers["etag"] == f'"{sha256}"'
                tagged = c.get(path, headers={"If-None-Match": f'"{sha256}"'})
                assert tagged.status_code == 304 and tagged.content == b""
                cii = c.get(f"/invoices/{invoice['id']}/cii")
                assert (cii.status_code, cii.content) == (
                    cii_before.status_code,
                    cii_before.content,
                )
        finally:
            restarted.stop()
    finally:
        english.stop()
        german.stop()
    [(_, after, _)] = rows(database_url, invoice["id"])
    assert after == content
