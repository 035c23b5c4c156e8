"""Delivery (API.md, Webhooks): the outbox, signatures, the retry schedule, disabling, safety."""

import itertools
import socket
from datetime import datetime, timedelta

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

from invoicing.core.errors import Conflict
from invoicing.db.query import Query
from invoicing.invoices import service as invoices
from invoicing.invoices.schemas import InvoiceCreate
from invoicing.webhooks import addresses
from invoicing.webhooks.dispatcher import GAVE_UP, GONE
from tests.conftest import run
from tests.helpers import create_invoice, create_order
from tests.receivers import Behaviour, Receiver
from tests.servers import free_port
from tests.webhooks.conftest import Driver, add_endpoint

# Events moved to webhook_events, and those still in SQLite's outbox.
_COUNT_EVENTS = Query(
    "SELECT (SELECT COUNT(*) FROM webhook_events) + (SELECT COUNT(*) FROM webhook_outbox)"
)


def count_events(client) -> int:
    async def work(database):
        async with database.read() as connection:
            return await connection.fetchval(_COUNT_EVENTS)

    return int(run(client, work))


def deliveries(api, endpoint) -> list[dict]:
    response = api.get(f"/webhooks/{endpoint['id']}/deliveries?limit=100")
    assert response.status_code == 200
    return response.json()["data"]


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_every_event_carries_the_resource_as_it_was(api, driver, receiver):
    endpoint = add_endpoint(api, receiver.url())
    order = create_order(api)
    invoice = create_invoice(api, order["id"])
    sent = api.post(f"/invoices/{invoice['id']}/send", json={}).json()["data"]
    first = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": 100}).json()["data"]
    rest = invoice["total"] - 100
    second = api.post(f"/invoices/{invoice['id']}/payments", json={"amount": rest}).json()["data"]
    paid = api.get(f"/invoices/{invoice['id']}").json()["data"]
    note = api.post(
        f"/invoices/{invoice['id']}/credit-notes",
        json={
            "reason": "Returned",
            "lineItems": [{"invoiceLineId": paid["lineItems"][0]["id"], "quantity": 1}],
        },
    ).json()["data"]
    note_sent = api.post(f"/credit-notes/{note['id']}/send", json={}).json()["data"]
    assert driver.drain() == 8
    by_type: dict[str, list[dict]] = {}
    for got in receiver.received:
        event = got.verify(endpoint["secret"])
        assert event["id"] == got.headers["webhook-id"]
        assert moment(event["createdAt"]).tzinfo is not None
        by_type.setdefault(event["type"], []).append(event["data"])
    assert by_type["order.created"] == [order]
    assert by_type["invoice.created"] == [invoice]  # open and unpaid, as it was
    assert by_type["invoice.sent"] == [sent]
    assert sorted(by_type["payment.created"], key=lambda p: p["amount"]) == sorted(
        [first, second], key=lambda p: p["amount"]
    )
    assert by_type["invoice.paid"] == [paid]
    assert paid["status"] == "paid" and paid["amountDue"] == 0
    assert by_type["creditnote.created"] == [note]
    assert by_type["creditnote.sent"] == [note_sent]
    assert len(receiver.received) == 8  # each once: nothing pending is sent again
    assert driver.round() == 0


def test_filters_choose_the_events(api, driver):
    receivers = [Receiver().start() for _ in range(3)]
    try:
        paid_only = add_endpoint(api, receivers[0].url(), ["invoice.paid"])
        orders_only = add_endpoint(api, receivers[1].url(), ["order.created"])
        add_endpoint(api, receivers[2].url(), ["creditnote.sent"])
        order = create_order(api)
        invoice = create_invoice(api, order["id"])
        api.post(f"/invoices/{invoice['id']}/payments", json={"amount": invoice["total"]})
        driver.drain()
        assert [e["type"] for e in receivers[0].events()] == ["invoice.paid"]
        assert [e["type"] for e in receivers[1].events()] == ["order.created"]
        assert receivers[2].received == []
        assert len(deliveries(api, paid_only)) == 1 and len(deliveries(api, orders_only)) == 1
    finally:
        for receiver in receivers:
            receiver.stop()


def test_a_tampered_or_foreign_delivery_fails_verification(api, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    driver.drain()
    [got] = receiver.received
    got.verify(endpoint["secret"])
    tampered = got.body.replace(b'"order.created"', b'"order.creatde"')
    with pytest.raises(WebhookVerificationError):
        type(got)(got.path, got.headers, tampered).verify(endpoint["secret"])
    other = add_endpoint(api, receiver.url(), ["invoice.paid"])
    with pytest.raises(WebhookVerificationError):
        got.verify(other["secret"])


def test_no_listener_no_failure_no_rollback_means_no_event(api, client, driver, receiver):
    order = create_order(api)  # no endpoint yet: nothing is written
    assert count_events(client) == 0
    add_endpoint(api, receiver.url(), ["invoice.created"])
    create_invoice(api, order["id"])
    assert count_events(client) == 1
    again = api.post("/invoices", json={"orderId": order["id"]})  # fully invoiced: 409
    assert again.status_code == 409
    assert count_events(client) == 1
    second = create_order(api)

    async def rolled_back(database):
        settings = client.app.state.settings
        with pytest.raises(Conflict):
            async with database.write() as connection:
                await invoices.create(
                    connection, _caller(), InvoiceCreate(orderId=second["id"]), settings
                )
                raise Conflict("changed my mind")

    run(client, rolled_back)
    assert count_events(client) == 1
    assert driver.drain() == 1
    assert len(receiver.events("invoice.created")) == 1


def _caller():
    from invoicing.auth.principal import Principal

    return Principal("0" * 24, "test", "admin")


def test_ping_is_sent_whatever_the_filter(api, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["invoice.paid"])
    response = api.post(f"/webhooks/{endpoint['id']}/test")
    assert response.status_code == 202
    event_id = response.json()["data"]["eventId"]
    assert driver.round() == 1
    [got] = receiver.received
    event = got.verify(endpoint["secret"])
    assert event["type"] == "ping" and event["id"] == event_id
    assert event["data"] == {"endpointId": endpoint["id"]}
    [delivery] = deliveries(api, endpoint)
    assert delivery["eventId"] == event_id and delivery["eventType"] == "ping"
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 200 and delivery["lastError"] is None
    assert delivery["deliveredAt"] is not None and delivery["nextAttemptAt"] is None


def test_a_failure_is_retried_after_about_five_seconds(api, driver, clock, receiver):
    receiver.behaviour = Behaviour(statuses=[500])
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    assert driver.round() == 1
    [delivery] = deliveries(api, endpoint)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["lastStatusCode"] == 500 and delivery["lastError"] == "HTTP 500"
    wait = moment(delivery["nextAttemptAt"]) - moment(delivery["lastAttemptAt"])
    assert timedelta(seconds=4.5) <= wait <= timedelta(seconds=5.5)
    assert driver.round() == 0  # not yet
    clock.advance(seconds=6)
    assert driver.round() == 1
    [delivery] = deliveries(api, endpoint)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    second.verify(endpoint["secret"])


def test_410_disables_the_endpoint_until_it_is_enabled_again(api, driver, clock, receiver):
    receiver.behaviour = Behaviour(statuses=[410])
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    assert driver.round() == 1
    disabled = api.get(f"/webhooks/{endpoint['id']}").json()["data"]
    assert disabled["enabled"] is False and disabled["disabledReason"] == GONE
    create_order(api)  # events keep being kept for it
    clock.advance(hours=12)
    assert driver.round() == 0
    assert [d["status"] for d in deliveries(api, endpoint)] == ["pending", "pending"]
    enabled = api.patch(f"/webhooks/{endpoint['id']}", json={"enabled": True}).json()["data"]
    assert enabled["enabled"] is True and enabled["disabledReason"] is None
    assert driver.drain() == 2
    assert [d["status"] for d in deliveries(api, endpoint)] == ["delivered", "delivered"]
    assert len(receiver.received) == 3


def test_a_slow_receiver_counts_as_failed_and_is_retried(api, client, clock, receiver):
    driver = Driver(client, clock, webhook_timeout=0.5)
    try:
        receiver.behaviour = Behaviour(delay=1.5)
        endpoint = add_endpoint(api, receiver.url(), ["order.created"])
        create_order(api)
        assert driver.round() == 1
        [delivery] = deliveries(api, endpoint)
        assert delivery["status"] == "pending" and delivery["lastStatusCode"] is None
        assert delivery["lastError"] == "timeout: no answer within 0.5 s"
        receiver.behaviour = Behaviour()
        clock.advance(seconds=6)
        assert driver.round() == 1
        assert deliveries(api, endpoint)[0]["status"] == "delivered"
    finally:
        driver.close()


def test_the_default_time_limit_is_ten_seconds(client):
    assert client.app.state.settings.webhook_timeout == 10


def test_a_receiver_down_for_hours_gets_the_event_when_it_returns(api, driver, clock):
    port = free_port()
    endpoint = add_endpoint(api, f"http://127.0.0.1:{port}/hooks", ["order.created"])
    create_order(api)
    waits = []
    for expected in (5, 5 * 60, 30 * 60, 2 * 3600):
        assert driver.round() == 1
        [delivery] = deliveries(api, endpoint)
        assert delivery["lastError"].startswith("network:")
        wait = moment(delivery["nextAttemptAt"]) - moment(delivery["lastAttemptAt"])
        assert expected * 0.9 <= wait.total_seconds() <= expected * 1.1
        waits.append(wait)
        clock.advance(seconds=wait.total_seconds() + 1)
    receiver = Receiver(port).start()
    try:
        assert driver.round() == 1
        [event] = receiver.events()
        [delivery] = deliveries(api, endpoint)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 5
        receiver.received[0].verify(endpoint["secret"])
        assert event["type"] == "order.created"
    finally:
        receiver.stop()


def test_after_three_days_of_failures_it_gives_up_and_disables(api, driver, clock, receiver):
    receiver.behaviour = Behaviour(status=503)
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    attempts = []
    while True:
        assert driver.round() == 1
        [delivery] = deliveries(api, endpoint)
        attempts.append(moment(delivery["lastAttemptAt"]))
        if delivery["nextAttemptAt"] is None:
            break
        clock.advance(seconds=(moment(delivery["nextAttemptAt"]) - clock()).total_seconds() + 1)
        assert len(attempts) < 20
    assert delivery["status"] == "failed" and delivery["lastStatusCode"] == 503
    # The first, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h (17.6 h in), then every 10 h
    # until 3 days: 12 attempts (11 when the jitter adds up to push the last past 72 h).
    assert len(attempts) in (11, 12)
    assert attempts[-1] - attempts[0] <= timedelta(days=3)
    assert attempts[-1] - attempts[0] >= timedelta(days=2, hours=12)
    later = [b - a for a, b in itertools.pairwise(attempts[6:])]
    assert all(timedelta(hours=9) <= gap <= timedelta(hours=11.1) for gap in later)
    disabled = api.get(f"/webhooks/{endpoint['id']}").json()["data"]
    assert disabled["enabled"] is False and disabled["disabledReason"] == GAVE_UP
    # Given up: nothing more goes out, until someone asks for it.
    clock.advance(days=5)
    assert driver.round() == 0
    receiver.behaviour = Behaviour()
    api.patch(f"/webhooks/{endpoint['id']}", json={"enabled": True})
    retried = api.post(f"/webhooks/{endpoint['id']}/deliveries/{delivery['eventId']}/retry")
    assert retried.status_code == 202
    assert retried.json()["data"]["status"] == "pending"
    assert driver.round() == 1
    assert deliveries(api, endpoint)[0]["status"] == "delivered"


def test_redirects_are_not_followed(api, driver, receiver):
    receiver.behaviour = Behaviour(status=307, headers={"Location": receiver.url("/elsewhere")})
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    assert driver.round() == 1
    assert [r.path for r in receiver.received] == ["/hooks"]
    [delivery] = deliveries(api, endpoint)
    assert delivery["status"] == "pending" and delivery["lastStatusCode"] == 307


def test_at_most_64_kb_of_the_answer_is_read(api, client, clock, receiver):
    driver = Driver(client, clock, webhook_timeout=3)
    try:
        receiver.behaviour = Behaviour(endless=True)
        endpoint = add_endpoint(api, receiver.url(), ["order.created"])
        create_order(api)
        assert driver.round() == 1  # an endless body would otherwise run into the time limit
        [delivery] = deliveries(api, endpoint)
        assert delivery["status"] == "delivered", delivery
    finally:
        driver.close()


def _resolving_to(address: str):
    async def lookup(host: str, port: int):
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    return lookup


def test_a_name_that_resolves_to_a_private_address_is_not_dialled(
    api, client, clock, receiver, monkeypatch
):
    """DNS rebinding: the name passed when it was saved; at delivery it resolves to loopback."""
    driver = Driver(client, clock, webhook_allow_private=False)
    try:
        monkeypatch.setattr(addresses, "lookup", _resolving_to("127.0.0.1"))
        endpoint = add_endpoint(
            api, f"http://hooks.example.com:{receiver.port}/in", ["order.created"]
        )
        create_order(api)
        assert driver.round() == 1
        [delivery] = deliveries(api, endpoint)
        assert delivery["status"] == "pending"
        assert delivery["lastError"] == (
            "refused: hooks.example.com resolves to 127.0.0.1, not a public address"
        )
        assert receiver.received == []
    finally:
        driver.close()


def test_the_checked_address_is_dialled_with_the_name_as_host(api, driver, receiver, monkeypatch):
    monkeypatch.setattr(addresses, "lookup", _resolving_to("127.0.0.1"))
    endpoint = add_endpoint(
        api, f"http://hooks.example.com:{receiver.port}/in?shop=1", ["order.created"]
    )
    create_order(api)
    assert driver.round() == 1
    [got] = receiver.received
    assert got.headers["host"] == f"hooks.example.com:{receiver.port}"
    assert got.path == "/in?shop=1"
    got.verify(endpoint["secret"])


def test_rotated_secrets_both_sign_for_24_hours(api, driver, clock, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    old = endpoint["secret"]
    new = api.post(f"/webhooks/{endpoint['id']}/rotate-secret").json()["data"]["secret"]
    create_order(api)
    driver.drain()
    [during] = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    during.verify(old)
    during.verify(new)
    clock.advance(hours=24, seconds=1)
    create_order(api)
    driver.drain()
    after = receiver.received[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    after.verify(new)
    with pytest.raises(WebhookVerificationError):
        after.verify(old)


def test_a_deleted_endpoint_gets_nothing_more(api, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    api.delete(f"/webhooks/{endpoint['id']}")
    assert driver.round() == 0
    assert receiver.received == []


def test_a_slow_endpoint_cannot_take_every_slot(api, client, clock):
    driver = Driver(client, clock, webhook_concurrency=10, webhook_concurrency_per_endpoint=3)
    slow, fast = Receiver().start(), Receiver().start()
    try:
        add_endpoint(api, slow.url(), ["order.created"])
        for _ in range(5):
            create_order(api)  # due first: 5 deliveries for the slow one
        add_endpoint(api, fast.url(), ["order.created"])
        for _ in range(3):
            create_order(api)  # then 3 more for each
        # By due time alone, the 10 slots would go 8 to the slow one and 2 to the other.
        assert driver.round() == 6
        assert len(slow.received) == 3 and len(fast.received) == 3
    finally:
        driver.close()
        slow.stop()
        fast.stop()


def test_an_attempt_under_way_is_not_taken_twice(api, client, clock, receiver):
    """Two dispatchers (as in two processes): the first's claim leases the delivery; the second
    takes it only once the lease has run out (the first died mid-attempt)."""
    first, second = Driver(client, clock), Driver(client, clock)
    try:
        endpoint = add_endpoint(api, receiver.url(), ["order.created"])
        create_order(api)

        async def claim(database):
            return await first.dispatcher.claim(10, __import__("collections").Counter())

        assert len(run(client, claim)) == 1
        assert second.round() == 0
        clock.advance(seconds=60)
        assert second.round() == 0
        clock.advance(seconds=11)
        assert second.round() == 1
        [delivery] = deliveries(api, endpoint)
        assert delivery["status"] == "delivered" and delivery["attempts"] == 2
    finally:
        first.close()
        second.close()


def test_deliveries_are_listed_newest_first_and_paged(api, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    for _ in range(3):
        create_order(api)
    driver.drain()
    events = [e["id"] for e in receiver.events()]
    page = api.get(f"/webhooks/{endpoint['id']}/deliveries?limit=2").json()
    assert len(page["data"]) == 2 and page["nextCursor"]
    rest = api.get(f"/webhooks/{endpoint['id']}/deliveries?limit=2&cursor={page['nextCursor']}")
    listed = page["data"] + rest.json()["data"]
    assert sorted(d["eventId"] for d in listed) == sorted(events)
    assert [d["createdAt"] for d in listed] == sorted(
        (d["createdAt"] for d in listed), reverse=True
    )
    assert rest.json()["nextCursor"] is None


def test_metrics_count_attempts_and_the_oldest_pending_event(api, client, driver, clock, receiver):
    receiver.behaviour = Behaviour(statuses=[500])
    add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)

    def counted(outcome: str) -> float:
        for text_line in client.get("/metrics").text.splitlines():
            if text_line.startswith(f'invoicing_webhook_attempts_total{{outcome="{outcome}"}}'):
                return float(text_line.split()[-1])
        return 0.0

    failed, delivered = counted("http_error"), counted("delivered")
    driver.round()
    assert counted("http_error") == failed + 1
    assert counted("delivered") == delivered
    clock.advance(seconds=90)
    assert 90 <= driver.oldest_pending() < 100
    driver.round()
    assert counted("delivered") == delivered + 1
    assert counted("http_error") == failed + 1
    assert driver.oldest_pending() == 0


def test_finished_deliveries_are_forgotten_after_30_days(api, client, driver, clock, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    driver.round()
    receiver.behaviour = Behaviour(status=500)
    create_order(api)
    driver.round()  # this one fails and stays pending
    clock.advance(days=29)
    run(client, lambda database: driver.dispatcher.prune(now=True))
    assert len(deliveries(api, endpoint)) == 2 and count_events(client) == 2
    clock.advance(days=2)
    run(client, lambda database: driver.dispatcher.prune(now=True))
    [left] = deliveries(api, endpoint)
    assert left["status"] == "pending" and left["lastStatusCode"] == 500
    assert count_events(client) == 1


def test_any_2xx_is_delivered(api, driver, receiver):
    receiver.behaviour = Behaviour(statuses=[202, 204, 299])
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    for _ in range(3):
        create_order(api)
    assert driver.round() == 3
    found = deliveries(api, endpoint)
    assert {d["status"] for d in found} == {"delivered"}
    assert sorted(d["lastStatusCode"] for d in found) == [202, 204, 299]
