"""The contract's conventions: auth, envelope, limits, idempotency, pagination."""

import pytest

from tests.helpers import create_order, order_body


def test_bearer_token_works_like_access_token(client, api):
    response = client.get("/orders", headers={"Authorization": f"Bearer {api.secret}"})
    assert response.status_code == 200


def test_unauthenticated_requests_never_learn_whether_a_resource_exists(client):
    for method, path in [
        ("GET", "/invoices/693738682fa9114d9af87d29"),
        ("GET", "/nowhere"),
        ("DELETE", "/invoices"),
        ("POST", "/tokens"),
    ]:
        response = client.request(method, path)
        assert response.status_code == 401
        assert response.json() == {"success": False, "message": "Invalid or missing access token"}


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nowhere", 404, "Not found"),
        ("DELETE", "/invoices", 405, "Method not allowed"),
        ("PUT", "/orders", 405, "Method not allowed"),
    ],
)
def test_framework_errors_use_the_envelope(api, method, path, status, message):
    response = api.request(method, path)
    assert response.status_code == status
    assert response.json() == {"success": False, "message": message}


def test_content_type_must_be_json(api):
    for headers in ({"Content-Type": "text/plain"}, {}):
        response = api.post("/orders", content=b'{"a": 1}', headers=headers)
        assert response.status_code == 415
        assert response.json() == {
            "success": False,
            "message": "Content-Type must be application/json",
        }
    ok = api.post(
        "/invoices", content=b"{}", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert ok.status_code == 400


def test_body_over_one_mebibyte(api):
    body = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    response = api.post("/orders", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json() == {"success": False, "message": "Request body too large"}

    def chunks():
        for _ in range(20):
            yield b"a" * 65536

    streamed = api.post("/orders", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


def test_unexpected_errors_are_a_clean_500(api, monkeypatch):
    from invoicing.invoices import service

    async def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM internals")

    monkeypatch.setattr(service, "get", broken)
    response = api.get("/invoices/693738682fa9114d9af87d29")
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "message": "An error occurred while fetching the invoice",
    }
    monkeypatch.setattr(service, "create", broken)
    response = api.post("/invoices", json={"orderId": create_order(api)["id"]})
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "message": "An error occurred while creating the invoice",
    }


def test_requests_meet_the_apps_own_middleware_first(client):
    """FastAPI's outer layers (its error page, telemetry, body limit) are left out of the stack:
    RequestContext answers unexpected errors (above), LimitBody limits bodies."""
    layer, names = client.app.build_middleware_stack(), []
    while hasattr(layer, "app") and len(names) < 6:
        names.append(type(layer).__name__)
        layer = layer.app
    assert names == [
        "RequestContext",
        "Authenticate",
        "LimitBody",
        "FastPath",
        "ExceptionMiddleware",
        "AsyncExitStackMiddleware",
    ]


def test_security_headers(api):
    response = api.get("/orders")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-request-id"]
    assert "server" not in response.headers


def test_idempotent_replay(api):
    order = create_order(api)
    headers = {"Idempotency-Key": "invoice-for-order-1"}
    first = api.post("/invoices", json={"orderId": order["id"]}, headers=headers)
    again = api.post("/invoices", json={"orderId": order["id"]}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(api.get("/invoices").json()["data"]) == 1


def test_idempotency_key_with_a_different_body(api):
    headers = {"Idempotency-Key": "k1"}
    assert api.post("/orders", json=order_body(), headers=headers).status_code == 201
    response = api.post("/orders", json=order_body(currency="EUR"), headers=headers)
    assert response.status_code == 409
    assert response.json() == {
        "success": False,
        "message": "Idempotency key was already used with a different request",
    }


def test_idempotency_is_per_token(client, api):
    from tests.conftest import Api, create_token

    token_id, secret = create_token(client, "other", "api")
    other = Api(client, secret, token_id)
    headers = {"Idempotency-Key": "same"}
    mine = api.post("/orders", json=order_body(), headers=headers).json()["data"]
    theirs = other.post("/orders", json=order_body(), headers=headers)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers
    assert theirs.json()["data"]["id"] != mine["id"]


def test_failed_requests_are_not_kept(api):
    order = create_order(api)
    headers = {"Idempotency-Key": "retry-me"}
    failed = api.post(
        "/invoices",
        json={
            "orderId": order["id"],
            "lineItems": [{"lineItemId": order["lineItems"][0]["id"], "quantity": 99}],
        },
        headers=headers,
    )
    assert failed.status_code == 400
    fixed = api.post(
        "/invoices",
        json={
            "orderId": order["id"],
            "lineItems": [{"lineItemId": order["lineItems"][0]["id"], "quantity": 99}],
        },
        headers=headers,
    )
    assert fixed.status_code == 400  # same body, still failing, still not stored
    assert (
        api.post(
            "/invoices", json={"orderId": "69ab24db449866373d5e3e35"}, headers=headers
        ).status_code
        == 404
    )


def test_idempotency_key_length(api):
    response = api.post("/orders", json=order_body(), headers={"Idempotency-Key": "k" * 256})
    assert response.status_code == 400


def test_pagination_returns_every_row_once_while_rows_arrive(api):
    created = [create_order(api)["id"] for _ in range(7)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/orders", params=params).json()
        seen += [order["id"] for order in page["data"]]
        create_order(api)  # a newer row appears between pages
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    "params",
    [{"cursor": "garbage!"}, {"cursor": "' OR 1=1"}, {"limit": 0}, {"limit": 101}, {"limit": "x"}],
)
def test_bad_list_parameters(api, params):
    response = api.get("/invoices", params=params)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert response.json()["message"].startswith("Validation error: ")


def metric(client, name: str) -> float:
    response = client.get("/metrics")
    assert response.status_code == 200
    for text_line in response.text.splitlines():
        if text_line.startswith(name + " ") or text_line.startswith(name + "{"):
            return float(text_line.rsplit(" ", 1)[1])
    return 0.0


def test_health_and_metrics_need_no_token(client, api):
    assert client.get("/health").json() == {"status": "ok"}
    invoices_before = metric(client, "invoicing_invoices_created_total")
    gets_before = metric(
        client, 'invoicing_requests_total{method="GET",route="/orders/{order_id}",status="404"}'
    )
    order = create_order(api)
    headers = {"Idempotency-Key": "once"}
    api.post("/invoices", json={"orderId": order["id"]}, headers=headers)
    api.post(
        "/invoices", json={"orderId": order["id"]}, headers=headers
    )  # a replay creates nothing
    api.get("/orders/693738682fa9114d9af87d29")
    assert metric(client, "invoicing_invoices_created_total") == invoices_before + 1
    assert (
        metric(
            client, 'invoicing_requests_total{method="GET",route="/orders/{order_id}",status="404"}'
        )
        == gets_before + 1
    )
    assert "invoicing_request_duration_seconds_bucket" in client.get("/metrics").text


def test_openapi_describes_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    assert {
        "/orders",
        "/orders/{order_id}",
        "/invoices",
        "/invoices/{invoice_id}",
        "/invoices/{invoice_id}/pdf",
        "/invoices/{invoice_id}/send",
        "/tokens",
        "/tokens/{token_id}",
        "/health",
        "/metrics",
    } <= schema["paths"].keys()
    create = schema["paths"]["/invoices"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "InvoiceCreate"
    )
    assert {"201", "400", "401", "404", "409"} <= create["responses"].keys()
    assert "InvoiceCreate" in schema["components"]["schemas"]
