from tests.helpers import create_invoice, create_order


def test_invoice_of_an_order(api):
    order = create_order(api)
    invoice = create_invoice(api, order["id"])
    assert invoice["entityId"] == "1"
    assert invoice["total"] == 649.18
