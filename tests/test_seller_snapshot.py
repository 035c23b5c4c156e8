"""The seller copy of invoices and credit notes: read with the order's lock and its JSON cached
(`seller.service.snapshot`), yet always the profile saved last, or the settings until there is
one, and the same text as the profile GET /seller shows."""

from datetime import date, timedelta

import orjson

from invoicing.db.query import Query
from tests.conftest import run
from tests.helpers import SELLER, create_invoice, create_order

_STORED_COPIES = Query(
    "SELECT seller FROM invoices WHERE id = $1 "
    "UNION ALL SELECT seller FROM credit_notes WHERE invoice_id = $1"
)
_FORGET_PROFILE = Query("DELETE FROM seller_profile")


def put_seller(api, **changes) -> dict:
    response = api.put("/seller", json={**SELLER, **changes})
    assert response.status_code == 200, response.text
    seller: dict = response.json()["data"]
    return seller


def shown_seller(api) -> dict:
    response = api.get("/seller")
    assert response.status_code == 200, response.text
    seller: dict = response.json()["data"]
    return seller


def invoice_and_credit_note(api) -> tuple[dict, dict]:
    invoice = create_invoice(api, create_order(api)["id"])
    response = api.post(f"/invoices/{invoice['id']}/credit-notes", json={"reason": "Returned"})
    assert response.status_code == 201, response.text
    return invoice, response.json()["data"]


def stored_copies(client, invoice_id: str) -> list[str]:
    """The seller column of the invoice and of its credit notes, as stored."""

    async def read(database):
        async with database.read() as connection:
            return [row["seller"] for row in await connection.fetch(_STORED_COPIES, invoice_id)]

    copies: list[str] = run(client, read)
    return copies


def copies_what_get_shows(client, api) -> dict:
    """A new invoice and its credit note, which must both copy the seller GET /seller shows:
    the same object, and stored as its JSON byte for byte (keys in GET's order)."""
    shown = shown_seller(api)
    invoice, note = invoice_and_credit_note(api)
    assert invoice["seller"] == note["seller"] == shown
    assert stored_copies(client, invoice["id"]) == [orjson.dumps(shown).decode()] * 2
    return invoice


def test_a_seller_update_reaches_the_next_invoice_and_credit_note(client, api):
    first = put_seller(api)
    assert copies_what_get_shows(client, api)["seller"] == first

    second = put_seller(api, name="Northwind Holding AG", paymentTermsDays=10)
    invoice = copies_what_get_shows(client, api)
    assert invoice["seller"] == second
    issued = date.fromisoformat(invoice["issueDate"])
    assert invoice["dueDate"] == (issued + timedelta(days=10)).isoformat()

    # The first profile again: the same text as before, but saved anew.
    third = put_seller(api)
    assert third != first  # its updatedAt
    assert copies_what_get_shows(client, api)["seller"] == third


def test_the_settings_stand_in_while_no_profile_is_saved(client, api, monkeypatch):
    settings = client.app.state.settings
    monkeypatch.setattr(settings, "seller_name", "Acme Supplies")
    monkeypatch.setattr(settings, "seller_address", "Dock Rd 2\nHamburg")
    invoice = copies_what_get_shows(client, api)
    assert invoice["seller"]["name"] == "Acme Supplies"
    assert invoice["seller"]["address"] == "Dock Rd 2\nHamburg"
    assert invoice["seller"]["updatedAt"] is None
    issued = date.fromisoformat(invoice["issueDate"])
    assert invoice["dueDate"] == (issued + timedelta(days=30)).isoformat()

    saved = put_seller(api)
    assert copies_what_get_shows(client, api)["seller"] == saved

    async def forget(database):
        async with database.write() as connection:
            await connection.execute(_FORGET_PROFILE)

    run(client, forget)
    assert copies_what_get_shows(client, api)["seller"]["name"] == "Acme Supplies"
