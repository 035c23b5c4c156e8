"""Access tokens: hashed at rest, admin-only management, revocation at once."""

import pytest

from tests.conftest import Api, create_token, run


def test_create_list_revoke(client, api):
    response = api.post("/tokens", json={"name": "shop", "type": "api"})
    assert response.status_code == 201
    token = response.json()["data"]
    secret = token["token"]
    assert secret.startswith("inv_") and len(secret) >= 40
    shop = Api(client, secret, token["id"])
    assert shop.get("/orders").status_code == 200
    listed = api.get("/tokens").json()["data"]
    assert {t["id"] for t in listed} == {api.token_id, token["id"]}
    assert all("token" not in t for t in listed)
    revoked = api.delete(f"/tokens/{token['id']}")
    assert revoked.status_code == 200 and revoked.json()["data"]["revokedAt"]
    assert shop.get("/orders").status_code == 401
    assert api.delete("/tokens/693738682fa9114d9af87d29").status_code == 404


def test_revoking_twice_changes_nothing_and_unknown_tokens_are_404(api):
    token = api.post("/tokens", json={"name": "shop", "type": "api"}).json()["data"]
    first = api.delete(f"/tokens/{token['id']}").json()["data"]
    again = api.delete(f"/tokens/{token['id']}")
    assert again.status_code == 200
    assert again.json()["data"] == first  # the first revokedAt stays
    for unknown in ("693738682fa9114d9af87d29", "not-an-id"):
        response = api.delete(f"/tokens/{unknown}")
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": "Token not found"}


def test_api_tokens_cannot_manage_tokens(client):
    token_id, secret = create_token(client, "shop", "api")
    shop = Api(client, secret, token_id)
    for method, path in [
        ("GET", "/tokens"),
        ("POST", "/tokens"),
        ("DELETE", f"/tokens/{token_id}"),
    ]:
        response = shop.request(method, path, json={"name": "x"})
        assert response.status_code == 403
        assert response.json() == {
            "success": False,
            "message": "This action requires an admin access token",
        }


def test_only_the_hash_is_stored(client, api):
    secret = api.post("/tokens", json={"name": "shop"}).json()["data"]["token"]

    async def dump(database):
        from invoicing.db.query import Query

        async with database.read() as connection:
            rows = await connection.fetch(Query("SELECT * FROM tokens"))
        return repr([tuple(row) for row in rows])

    stored = run(client, dump)
    assert secret not in stored and api.secret not in stored
    assert "shop" in stored


def test_created_by_names_the_token(client):
    token_id, secret = create_token(client, "Web shop", "api")
    shop = Api(client, secret, token_id)
    from tests.helpers import create_order

    order = create_order(shop)
    assert order["createdBy"] == {"id": token_id, "name": "Web shop", "type": "api"}


# A token's name is printed by `invoicing tokens list` and shown as createdBy.name: control and
# format characters (Unicode category C: line breaks, ESC, DEL, bidi overrides...) could forge
# lines or carry terminal escape sequences, so they are refused.
CONTROL_NAMES = [
    "evil\x1b[2J",  # clears the screen
    "\x1b]8;;https://evil.example\x07link\x1b]8;;\x07",  # a terminal hyperlink
    "two\nlines",
    "over\rwrite",
    "tab\tbed",
    "del\x7f",
    "csi\x9b31m",  # the 8-bit control sequence introducer
    "bidi\u202eexe.txt",  # right-to-left override
    "zero\u200bwidth",
]


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_token_name_refuses_control_characters(api, name):
    response = api.post("/tokens", json={"name": name, "type": "api"})
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Validation error: name must not contain control characters",
        "errors": [{"field": "name", "message": "must not contain control characters"}],
    }
    assert [t["id"] for t in api.get("/tokens").json()["data"]] == [api.token_id]


@pytest.mark.parametrize("name", ["Jörg's Bücher-Shop", "用户 商店", "Shop 🛒", "a  b"])
def test_token_name_allows_any_printable_text(api, name):
    response = api.post("/tokens", json={"name": name})
    assert response.status_code == 201 and response.json()["data"]["name"] == name
