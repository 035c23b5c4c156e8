"""POST /invoices/{id}/send: at most 10 sends per invoice in any hour (issue: `mailsSent` grew
without end), counted from the stored mails, so that it holds across processes and restarts."""

from datetime import timedelta

from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.core.times import now
from invoicing.db.base import Database
from invoicing.db.query import Query
from tests.conftest import run
from tests.helpers import create_invoice, create_order

TOO_MANY = {"success": False, "message": "Too many requests"}
_INSERT_MAIL = Query("INSERT INTO invoice_mails (invoice_id, sent_to, sent_at) VALUES ($1, $2, $3)")


def _sent_before(client: TestClient, invoice_id: str, ago: timedelta, count: int) -> None:
    """Mails recorded as sent `ago`, straight into the database (as another process would)."""

    async def work(database: Database) -> None:
        async with database.write() as connection:
            for _ in range(count):
                await connection.execute(_INSERT_MAIL, invoice_id, "old@example.com", now() - ago)

    run(client, work)


def test_the_eleventh_send_within_an_hour_is_refused(api, client):
    invoice = create_invoice(api, create_order(api)["id"])
    path = f"/invoices/{invoice['id']}/send"
    for _ in range(10):
        assert api.post(path, json={}).status_code == 200
    refused = api.post(path, json={"to": "someone@example.com"})
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    assert 3590 <= int(refused.headers["retry-after"]) <= 3600
    assert len(api.get(f"/invoices/{invoice['id']}").json()["data"]["mailsSent"]) == 10
    # Another server process on the same database (or this one, restarted) refuses it too.
    settings = client.app.state.settings
    with TestClient(create_app(settings), raise_server_exceptions=False) as restarted:
        again = restarted.post(path, json={}, headers={"accessToken": api.secret})
    assert again.status_code == 429
    assert again.json() == TOO_MANY


def test_sends_count_for_an_hour_and_retry_after_says_when_one_frees(api, client):
    invoice = create_invoice(api, create_order(api)["id"])
    path = f"/invoices/{invoice['id']}/send"
    _sent_before(client, invoice["id"], timedelta(minutes=61), 10)  # out of the window
    _sent_before(client, invoice["id"], timedelta(minutes=59), 9)
    assert api.post(path, json={}).status_code == 200
    refused = api.post(path, json={})
    assert refused.status_code == 429
    assert refused.json() == TOO_MANY
    # The oldest of the ten in the window leaves it in about a minute.
    assert 55 <= int(refused.headers["retry-after"]) <= 61


def test_other_invoices_are_not_limited(api, client):
    busy = create_invoice(api, create_order(api)["id"])
    _sent_before(client, busy["id"], timedelta(minutes=1), 10)
    assert api.post(f"/invoices/{busy['id']}/send", json={}).status_code == 429
    other = create_invoice(api, create_order(api)["id"])
    assert api.post(f"/invoices/{other['id']}/send", json={}).status_code == 200
