"""Access tokens: hashed at rest, admin-only management, revocation at once."""

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
