from tests.helpers import create_invoice, create_order
from tests.webhooks.conftest import add_endpoint


def test_invoice_created_is_delivered_signed(api, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["invoice.created"])
    order = create_order(api)
    invoice = create_invoice(api, order["id"])
    assert driver.round() == 1
    [got] = receiver.received
    event = got.verify(endpoint["secret"])
    assert event["type"] == "invoice.created"
    assert event["data"] == api.get(f"/invoices/{invoice['id']}").json()["data"]
