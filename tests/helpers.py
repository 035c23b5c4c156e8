"""Test data, as plain functions."""

from typing import Any

WIDGET = {"name": "Widget", "sku": "W-1", "quantity": 30, "unitPrice": 19.99, "taxRate": 8.25}


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"name": "Acme GmbH", "email": "billing@acme.example", "address": "Main St 1"},
        "currency": "USD",
        "lineItems": [dict(WIDGET)],
    }
    body.update(overrides)
    return body


def create_order(api: Any, **overrides: Any) -> dict[str, Any]:
    response = api.post("/orders", json=order_body(**overrides))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()["data"]
    return order


def create_invoice(api: Any, order_id: str, **body: Any) -> dict[str, Any]:
    response = api.post("/invoices", json={"orderId": order_id, **body})
    assert response.status_code == 201, response.text
    invoice: dict[str, Any] = response.json()["data"]
    return invoice


def line(
    name: str, quantity: Any, unit_price: Any, tax_rate: Any = 0, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "quantity": quantity,
        "unitPrice": unit_price,
        "taxRate": tax_rate,
        **extra,
    }
