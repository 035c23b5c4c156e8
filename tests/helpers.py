"""Test data, as plain values and functions."""

from typing import Any

# The seller profile of API.md's example: complete enough for every e-invoice profile.
SELLER: dict[str, Any] = {
    "name": "Northwind Trading Co.",
    "legalName": "Northwind Trading GmbH",
    "address": {
        "street": "Market St 400",
        "city": "Berlin",
        "postalCode": "10115",
        "country": "DE",
    },
    "vatId": "DE123456789",
    "taxRegistrationId": "",
    "legalRegistrationId": "HRB 12345",
    "email": "billing@northwind.example",
    "phone": "+49 30 1234567",
    "contact": {
        "name": "Accounts receivable",
        "phone": "+49 30 1234567",
        "email": "ar@northwind.example",
    },
    "electronicAddress": {"scheme": "0204", "id": "991-12345-67"},
    "bankAccount": {
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "accountName": "Northwind Trading GmbH",
    },
    "paymentTermsDays": 30,
}
# A German public buyer (XRechnung needs its Leitweg-ID as buyerReference).
PUBLIC_BUYER: dict[str, Any] = {
    "name": "Stadt Hamburg",
    "address": {
        "street": "Rathausmarkt 1",
        "city": "Hamburg",
        "postalCode": "20095",
        "country": "DE",
    },
    "vatId": "DE987654321",
    "buyerReference": "04011000-12345-03",
    "electronicAddress": {"scheme": "0204", "id": "04011000-12345-03"},
}

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
