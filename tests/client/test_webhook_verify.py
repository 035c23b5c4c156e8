"""`invoicing_client.webhooks` without a server: signatures made here with the Standard Webhooks
library itself (the live test verifies the service's own deliveries)."""

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from invoicing_client import WebhookVerificationError, webhooks
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdefghijklmnop").decode()
PAYMENT = {
    "id": "6b04d9f52a6bb07c65fce2c0",
    "_id": "6b04d9f52a6bb07c65fce2c0",
    "invoice": "6b04d9f52a6bb07c65fce2c1",
    "amount": 0.1000000000000000055511151231257827,
    "currency": "EUR",
    "paidAt": "2026-03-05",
    "method": None,
    "reference": None,
    "createdBy": {"id": "6b04d9f52a6bb07c65fce2c2", "name": "shop", "type": "api"},
    "createdAt": "2026-03-05T10:12:44.021Z",
}


def signed(kind: str, data: object, at: datetime | None = None) -> tuple[dict[str, str], bytes]:
    body = json.dumps({"id": "e1", "type": kind, "createdAt": "2026-03-05T10:12:44.021Z",
                       "data": data})  # fmt: skip
    # json.dumps writes the float's repr; make the body carry the long literal itself.
    body = body.replace(repr(PAYMENT["amount"]), "0.1000000000000000055511151231257827")
    at = at or datetime.now(UTC)
    headers = {
        "Webhook-Id": "e1",
        "Webhook-Timestamp": str(int(at.timestamp())),
        "Webhook-Signature": Webhook(SECRET).sign("e1", at, body),
        "Content-Type": "application/json",
    }
    return headers, body.encode()


def test_a_signed_event_is_typed_by_its_type_with_exact_numbers():
    headers, body = signed("payment.created", PAYMENT)
    event = webhooks.verify(headers, body, SECRET)
    assert isinstance(event, webhooks.PaymentEvent)
    assert event.data.amount == Decimal("0.1000000000000000055511151231257827")
    assert webhooks.verify(headers, body.decode(), SECRET) == event  # str bodies too


def test_an_unknown_type_does_not_break_a_receiver():
    headers, body = signed("invoice.voided", {"id": "x"})
    event = webhooks.verify(headers, body, SECRET)
    assert isinstance(event, webhooks.UnknownEvent)
    assert (event.type, event.data) == ("invoice.voided", {"id": "x"})


@pytest.mark.parametrize(
    "change",
    [
        lambda h, b: (h, b.replace(b"EUR", b"USD")),
        lambda h, b: ({**h, "Webhook-Signature": "v1,AAAA"}, b),
        lambda h, b: ({**h, "Webhook-Signature": "v1"}, b),
        lambda h, b: ({**h, "Webhook-Signature": "v1,not base64!"}, b),
        lambda h, b: ({**h, "Webhook-Timestamp": "yesterday"}, b),
        lambda h, b: ({k: v for k, v in h.items() if k != "Webhook-Id"}, b),
        lambda h, b: (h, b"\xff" + b),
    ],
)
def test_anything_altered_or_malformed_is_refused(change):
    headers, body = change(*signed("payment.created", PAYMENT))
    with pytest.raises(WebhookVerificationError):
        webhooks.verify(headers, body, SECRET)


def test_an_old_delivery_is_refused_as_a_replay():
    headers, body = signed("payment.created", PAYMENT, datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(WebhookVerificationError, match="too old"):
        webhooks.verify(headers, body, SECRET)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_!!!"])
def test_a_secret_that_is_not_one_is_a_value_error(secret):
    headers, body = signed("payment.created", PAYMENT)
    with pytest.raises(ValueError, match="secret"):
        webhooks.verify(headers, body, secret)
