"""INVOICING_REQUIRE_EINVOICE=true: POST /invoices refuses, up front and consuming no number, an
invoice that could not be a valid EN 16931 e-invoice."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.config import Settings
from tests.conftest import Api
from tests.helpers import PUBLIC_BUYER as CUSTOMER
from tests.helpers import SELLER, order_body


@pytest.fixture
def strict(database_url: str, outbox: Any, api: Api) -> Iterator[Api]:
    """The same database and token, served by an app that requires complete e-invoice data."""
    settings = Settings(database_url=database_url, outbox_dir=outbox, require_einvoice=True)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, api.secret, api.token_id)


def _order(api: Api, **customer: Any) -> str:
    response = api.post("/orders", json=order_body(customer={**CUSTOMER, **customer}))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def test_an_incomplete_invoice_is_refused_and_takes_no_number(strict):
    order_id = _order(strict)  # the seller is still the environment's: no address, no VAT id
    response = strict.post("/invoices", json={"orderId": order_id})
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "The invoice lacks data that EN 16931 requires"
    assert {error["field"] for error in body["errors"]} == {"seller.address", "seller.vatId"}
    assert strict.get(f"/orders/{order_id}").json()["data"]["status"] == "open"

    assert strict.put("/seller", json=SELLER).status_code == 200
    invoice = strict.post("/invoices", json={"orderId": order_id}).json()["data"]
    assert (invoice["entityId"], invoice["number"]) == ("1", "1")


def test_a_customer_without_a_postal_address_is_refused(strict):
    assert strict.put("/seller", json=SELLER).status_code == 200
    response = strict.post("/invoices", json={"orderId": _order(strict, address="Main St 1")})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["customer.address"]


def test_off_by_default(api):
    response = api.post("/invoices", json={"orderId": _order(api)})
    assert response.status_code == 201
