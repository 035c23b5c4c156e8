"""The seller profile: the settings until saved, then the whole profile as last PUT."""

import copy
import re

import pytest

from invoicing.db.query import Query
from invoicing.seller import service
from tests.conftest import Api, create_token, run
from tests.helpers import SELLER as NORTHWIND

BLANK = {
    "name": "",
    "legalName": "",
    "address": None,
    "vatId": "",
    "taxRegistrationId": "",
    "legalRegistrationId": "",
    "email": "",
    "phone": "",
    "contact": None,
    "electronicAddress": None,
    "bankAccount": None,
    "paymentTermsDays": 30,
    "updatedAt": None,
}
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture(autouse=True)
def no_saved_profile(client):
    async def clear(database):
        async with database.write() as connection:
            await connection.execute(Query("DELETE FROM seller_profile"))

    run(client, clear)


def northwind(**changes):
    body = copy.deepcopy(NORTHWIND)
    body.update(changes)
    return body


def shop(client) -> Api:
    token_id, secret = create_token(client, "shop", "api")
    return Api(client, secret, token_id)


def put(api, body):
    return api.request("PUT", "/seller", json=body)


def refused(response, field):
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    assert body["message"].startswith(f"Validation error: {field} ")
    assert field in [error["field"] for error in body["errors"]]
    return next(error["message"] for error in body["errors"] if error["field"] == field)


def test_the_settings_stand_in_until_a_profile_is_saved(client, api, monkeypatch):
    response = api.get("/seller")
    assert response.status_code == 200
    assert response.json() == {"success": True, "data": {**BLANK, "name": "Your Company"}}

    settings = client.app.state.settings
    monkeypatch.setattr(settings, "seller_name", "Acme")
    monkeypatch.setattr(settings, "seller_address", "Main St 1\nBerlin")
    default = api.get("/seller").json()["data"]
    assert default == {**BLANK, "name": "Acme", "address": "Main St 1\nBerlin"}
    # What GET shows can be sent back as it is (a free-text address included).
    del default["updatedAt"]
    saved = put(api, default)
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"]["address"] == "Main St 1\nBerlin"


def test_put_then_get(api):
    response = put(api, NORTHWIND)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["message"] == "Seller profile updated"
    seller = body["data"]
    assert ISO_TIME.match(seller["updatedAt"])
    address = {**NORTHWIND["address"], "additionalStreet": "", "countrySubdivision": ""}
    assert seller == {**NORTHWIND, "address": address, "updatedAt": seller["updatedAt"]}
    assert api.get("/seller").json() == {"success": True, "data": seller}


def test_put_replaces_the_whole_profile(client, api):
    put(api, NORTHWIND)
    response = put(api, {"name": "Northwind", "paymentTermsDays": 14})
    assert response.status_code == 200, response.text
    seller = api.get("/seller").json()["data"]
    assert ISO_TIME.match(seller["updatedAt"])
    # Left out is cleared, not kept, and not the settings' default either.
    assert seller == {
        **BLANK,
        "name": "Northwind",
        "paymentTermsDays": 14,
        "updatedAt": seller["updatedAt"],
    }


def test_current_reads_the_profile_inside_a_write_transaction(client, api):
    put(api, NORTHWIND)

    async def in_transaction(database):
        async with database.write() as connection:
            return await service.current(connection, client.app.state.settings)

    assert run(client, in_transaction) == api.get("/seller").json()["data"]


def test_only_admin_tokens_may_change_it(client, api):
    put(api, NORTHWIND)
    before = api.get("/seller").json()
    other = shop(client)
    response = put(other, northwind(name="Hijacked"))
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "message": "This action requires an admin access token",
    }
    assert other.get("/seller").json() == before


def test_a_token_is_required(client):
    for method in ("GET", "PUT"):
        response = client.request(method, "/seller", json=NORTHWIND)
        assert response.status_code == 401
        assert response.json() == {"success": False, "message": "Invalid or missing access token"}


def test_iban_check_digits(api):
    wrong = northwind(bankAccount={"iban": "DE88370400440532013000"})
    message = refused(put(api, wrong), "bankAccount.iban")
    assert message == "must be a valid IBAN: its check digits do not match"
    assert api.get("/seller").json()["data"]["bankAccount"] is None


def test_iban_and_bic_are_stored_compact_and_uppercase(api):
    account = {"iban": "de89 3704 0044 0532 0130 00", "bic": "coba de ff xxx"}
    response = put(api, northwind(bankAccount=account))
    assert response.status_code == 200, response.text
    assert api.get("/seller").json()["data"]["bankAccount"] == {
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "accountName": "",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bankAccount": {"iban": "DE8937040044053201300"}}, "bankAccount.iban"),
        ({"bankAccount": {"iban": ""}}, "bankAccount.iban"),
        ({"bankAccount": {"iban": "DE89370400440532013000", "bic": "COBA1"}}, "bankAccount.bic"),
        ({"address": {"city": "Berlin", "country": "XX"}}, "address.country"),
        ({"address": {"city": "Berlin", "country": "de"}}, "address.country"),
        ({"address": {"city": "Berlin"}}, "address.country"),
        ({"address": 42}, "address"),
        ({"address": "x" * 1001}, "address"),
        ({"vatId": "123456789"}, "vatId"),
        ({"email": "not an address"}, "email"),
        ({"name": ""}, "name"),
        ({"paymentTermsDays": 366}, "paymentTermsDays"),
        ({"paymentTermsDays": -1}, "paymentTermsDays"),
        ({"paymentTermsDays": "30"}, "paymentTermsDays"),
        ({"electronicAddress": {"scheme": "0204"}}, "electronicAddress.id"),
        ({"nickname": "NW"}, "nickname"),
        ({"contact": {"name": "AR", "fax": "1"}}, "contact.fax"),
    ],
)
def test_invalid_profiles_are_refused(api, change, field):
    refused(put(api, northwind(**change)), field)
    assert api.get("/seller").json()["data"]["updatedAt"] is None


def test_name_is_required(api):
    body = northwind()
    del body["name"]
    assert refused(put(api, body), "name") == "is required"


@pytest.mark.parametrize("days", [0, 365])
def test_payment_terms_bounds(api, days):
    response = put(api, northwind(paymentTermsDays=days))
    assert response.status_code == 200, response.text
    assert api.get("/seller").json()["data"]["paymentTermsDays"] == days


def test_free_text_address_and_empty_optional_fields(api):
    body = {"name": "Northwind", "address": "Market St 400\n10115 Berlin", "vatId": "", "email": ""}
    response = put(api, body)
    assert response.status_code == 200, response.text
    seller = api.get("/seller").json()["data"]
    assert seller["address"] == "Market St 400\n10115 Berlin"
    assert seller["vatId"] == seller["email"] == ""
