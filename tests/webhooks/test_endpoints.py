"""The webhook endpoints API (API.md, Webhooks): CRUD, the secret shown once, filters, safety."""

import base64

import pytest

from invoicing.webhooks.events import EVENT_TYPES
from tests.conftest import Api, create_token, run
from tests.webhooks.conftest import add_endpoint

URL = "http://127.0.0.1:9/hooks"


def test_create_shows_the_secret_once(api):
    response = api.post(
        "/webhooks", json={"url": URL, "events": ["invoice.created"], "description": "shop"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Webhook endpoint created"
    created = body["data"]
    assert created["id"] == created["_id"] and len(created["id"]) == 24
    assert created["url"] == URL
    assert created["events"] == ["invoice.created"]
    assert created["description"] == "shop"
    assert created["enabled"] is True and created["disabledReason"] is None
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    fetched = api.get(f"/webhooks/{created['id']}").json()["data"]
    assert "secret" not in fetched
    assert fetched == {k: v for k, v in created.items() if k != "secret"}
    assert secret not in api.get("/webhooks").text


def test_events_default_to_every_type(api):
    assert add_endpoint(api, URL)["events"] == ["*"]


def test_the_secret_is_stored_encrypted(api, client):
    endpoint = add_endpoint(api, URL)

    async def stored(database):
        async with database.read() as connection:
            return await connection.fetchrow(
                _query("SELECT secret FROM webhook_endpoints WHERE id = $1"), endpoint["id"]
            )

    row = run(client, stored)
    assert endpoint["secret"] not in row["secret"]
    assert endpoint["secret"].removeprefix("whsec_") not in row["secret"]
    # A different service key cannot open it.
    from cryptography.fernet import InvalidToken

    from invoicing.webhooks.signing import SecretBox

    assert client.app.state.secret_box.open(row["secret"]) == endpoint["secret"]
    with pytest.raises(InvalidToken):
        SecretBox("another-key-of-at-least-32-characters-long").open(row["secret"])


def _query(sql):
    from invoicing.db.query import Query

    return Query(sql)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "example.com/hooks"}, "url"),
        ({"url": "https://user:pw@example.com/x"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"url": "https://example.com:99999/x"}, "url"),
        ({"url": "https://example.com/" + "a" * 2048}, "url"),
        ({"url": URL, "events": ["invoice.deleted"]}, "events"),
        ({"url": URL, "events": ["*", "invoice.created"]}, "events"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL, "events": "invoice.created"}, "events"),
        ({"url": URL, "description": "x" * 501}, "description"),
        ({"url": URL, "secret": "whsec_mine"}, "secret"),
        ({}, "url"),
    ],
)
def test_invalid_endpoints_are_refused(api, body, field):
    response = api.post("/webhooks", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert api.get("/webhooks").json()["data"] == []


def test_every_event_type_can_be_chosen(api):
    assert add_endpoint(api, URL, list(EVENT_TYPES))["events"] == list(EVENT_TYPES)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hooks",
        "http://127.8.9.10:8080/hooks",
        "http://localhost/hooks",
        "http://api.localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://172.16.0.1/hooks",
        "http://192.168.1.20/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[fe80::1]/hooks",
        "http://[fd00::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_private_addresses_are_refused_by_default(public_only_app, client, url):
    _, secret = create_token(client)
    api = Api(public_only_app, secret, "")
    response = api.post("/webhooks", json={"url": url})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "url"
    assert "public address" in response.json()["message"]
    created = add_endpoint(api, "https://hooks.example.com/in")
    moved = api.patch(f"/webhooks/{created['id']}", json={"url": url})
    assert moved.status_code == 400
    assert api.get(f"/webhooks/{created['id']}").json()["data"]["url"] == created["url"]


def test_public_addresses_are_accepted_by_default(public_only_app, client):
    _, secret = create_token(client)
    api = Api(public_only_app, secret, "")
    for url in (
        "https://hooks.example.com/in",
        "http://93.184.216.34/in",
        "https://[2606:4700::1]/x",
    ):
        assert api.post("/webhooks", json={"url": url}).status_code == 201


def test_only_admin_tokens_manage_webhooks(api, client):
    endpoint = add_endpoint(api, URL)
    _, secret = create_token(client, "shop", "api")
    shop = Api(client, secret, "")
    path = f"/webhooks/{endpoint['id']}"
    for method, target, body in [
        ("POST", "/webhooks", {"url": URL}),
        ("GET", "/webhooks", None),
        ("GET", path, None),
        ("PATCH", path, {"enabled": False}),
        ("DELETE", path, None),
        ("POST", f"{path}/rotate-secret", None),
        ("POST", f"{path}/test", None),
        ("GET", f"{path}/deliveries", None),
        ("POST", f"{path}/deliveries/{'0' * 24}/retry", None),
    ]:
        response = shop.request(method, target, json=body)
        assert response.status_code == 403, (method, target)
        assert response.json()["message"] == "This action requires an admin access token"
        assert client.request(method, target, json=body).status_code == 401
    assert api.get(path).json()["data"]["enabled"] is True


def test_update_changes_what_it_names(api):
    endpoint = add_endpoint(api, URL, ["invoice.created"])
    response = api.patch(
        f"/webhooks/{endpoint['id']}",
        json={"events": ["invoice.paid", "payment.created"], "description": "ERP"},
    )
    assert response.status_code == 200
    assert response.json()["message"] == "Webhook endpoint updated"
    updated = response.json()["data"]
    assert updated["events"] == ["invoice.paid", "payment.created"]
    assert updated["description"] == "ERP"
    assert updated["url"] == URL
    assert updated["updatedAt"] >= endpoint["updatedAt"]
    assert api.get(f"/webhooks/{endpoint['id']}").json()["data"] == updated
    off = api.patch(f"/webhooks/{endpoint['id']}", json={"enabled": False}).json()["data"]
    assert off["enabled"] is False


def test_update_refuses_null_and_unknown_fields(api):
    endpoint = add_endpoint(api, URL)
    for body, field in (({"url": None}, "url"), ({"secret": "x"}, "secret")):
        response = api.patch(f"/webhooks/{endpoint['id']}", json=body)
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == field


def test_delete_removes_the_endpoint(api):
    endpoint = add_endpoint(api, URL)
    response = api.delete(f"/webhooks/{endpoint['id']}")
    assert response.status_code == 200
    assert response.json()["message"] == "Webhook endpoint deleted"
    assert api.get(f"/webhooks/{endpoint['id']}").status_code == 404
    assert api.delete(f"/webhooks/{endpoint['id']}").status_code == 404


@pytest.mark.parametrize("suffix", ["", "/test", "/rotate-secret", "/deliveries"])
def test_unknown_and_malformed_ids_are_404(api, suffix):
    method = "GET" if suffix in ("", "/deliveries") else "POST"
    for id in ("0" * 24, "nope"):
        response = api.request(method, f"/webhooks/{id}{suffix}")
        assert response.status_code == 404
        assert response.json() == {"success": False, "message": "Webhook endpoint not found"}


def test_retry_of_an_unknown_delivery_is_404(api):
    endpoint = add_endpoint(api, URL)
    response = api.post(f"/webhooks/{endpoint['id']}/deliveries/{'0' * 24}/retry")
    assert response.status_code == 404
    assert response.json()["message"] == "Delivery not found"


def test_list_is_newest_first_and_paged(api):
    ids = [add_endpoint(api, f"{URL}/{n}")["id"] for n in range(5)]
    first = api.get("/webhooks?limit=3").json()
    assert [e["id"] for e in first["data"]] == ids[::-1][:3]
    rest = api.get(f"/webhooks?limit=3&cursor={first['nextCursor']}").json()
    assert [e["id"] for e in rest["data"]] == ids[::-1][3:]
    assert rest["nextCursor"] is None


def test_rotation_returns_a_new_secret(api):
    endpoint = add_endpoint(api, URL)
    response = api.post(f"/webhooks/{endpoint['id']}/rotate-secret")
    assert response.status_code == 200
    rotated = response.json()["data"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
    assert "24 hours" in response.json()["message"]
