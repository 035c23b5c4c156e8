"""SQLite's outbox (invoicing.webhooks.events): a request writes the event to `webhook_outbox`
only, the delivery process moves it to its deliveries; what that move must keep of the contract
(the listeners of the event's moment, nothing lost, nothing for a deleted endpoint) on both
databases, and the request's writes on SQLite."""

import asyncio
import time

from invoicing.core.pacing import Pacer
from invoicing.db.query import Query
from invoicing.webhooks import events
from tests.conftest import run
from tests.helpers import create_invoice, create_order
from tests.webhooks.conftest import Driver, add_endpoint

_COUNTS = Query(
    "SELECT (SELECT COUNT(*) FROM webhook_outbox) AS outbox, "
    "(SELECT COUNT(*) FROM webhook_events) AS events, "
    "(SELECT COUNT(*) FROM webhook_deliveries) AS deliveries"
)
_MOVED = Query("SELECT id FROM webhook_events ORDER BY seq")


def counts(client) -> dict[str, int]:
    async def work(database):
        async with database.read() as connection:
            return dict(await connection.fetchrow(_COUNTS))

    return run(client, work)


def sqlite(client) -> bool:
    return client.app.state.database.dialect == "sqlite"


def test_a_create_writes_only_the_outbox_on_sqlite(api, client, driver, receiver):
    endpoint = add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    if sqlite(client):
        assert counts(client) == {"outbox": 1, "events": 0, "deliveries": 0}
    else:  # PostgreSQL writes the event and its delivery in the request
        assert counts(client) == {"outbox": 0, "events": 1, "deliveries": 1}
    # A list of deliveries shows the event before the delivery process has moved it.
    [listed] = api.get(f"/webhooks/{endpoint['id']}/deliveries").json()["data"]
    assert listed["eventType"] == "order.created" and listed["status"] == "pending"
    assert counts(client) == {"outbox": 0, "events": 1, "deliveries": 1}
    assert driver.drain() == 1
    [got] = receiver.received
    got.verify(endpoint["secret"])
    assert got.event["id"] == listed["eventId"]


def test_an_invoices_event_is_written_by_the_invoices_own_insert_on_postgresql(
    api, client, driver, receiver, monkeypatch
):
    """No statement of its own inside the numbering lock (`events.Emitting`)."""
    endpoint = add_endpoint(api, receiver.url(), ["invoice.created"])
    order = create_order(api)
    if not sqlite(client):

        async def a_statement_of_its_own(*args, **kwargs):
            raise AssertionError("invoice.created was written by a statement of its own")

        monkeypatch.setattr(events, "emit", a_statement_of_its_own)
    invoice = create_invoice(api, order["id"])
    if sqlite(client):
        assert counts(client) == {"outbox": 1, "events": 0, "deliveries": 0}
    else:
        assert counts(client) == {"outbox": 0, "events": 1, "deliveries": 1}
    monkeypatch.undo()
    assert driver.drain() == 1
    [got] = receiver.received
    got.verify(endpoint["secret"])
    assert got.event["type"] == "invoice.created"
    assert got.event["data"] == api.get(f"/invoices/{invoice['id']}").json()["data"]


def test_the_dispatcher_moves_what_requests_wrote(api, client, driver, receiver):
    add_endpoint(api, receiver.url(), ["order.created"])
    orders = [create_order(api) for _ in range(3)]
    assert driver.drain() == 3
    assert sorted(event["data"]["id"] for event in receiver.events("order.created")) == sorted(
        order["id"] for order in orders
    )
    assert counts(client)["outbox"] == 0


def test_an_event_goes_to_the_endpoints_listening_when_it_happened(api, driver, receiver):
    then = add_endpoint(api, receiver.url("/then"), ["order.created"])
    order = create_order(api)
    # Before the event is delivered (on SQLite: before it leaves the outbox), the endpoint
    # stops listening for it and another starts.
    changed = api.patch(f"/webhooks/{then['id']}", json={"events": ["invoice.paid"]})
    assert changed.status_code == 200
    add_endpoint(api, receiver.url("/later"), ["order.created"])
    assert driver.drain() == 1
    [got] = receiver.received
    assert got.path == "/then" and got.event["data"]["id"] == order["id"]


def test_an_endpoint_deleted_before_the_move_gets_nothing(api, client, driver, receiver):
    gone = add_endpoint(api, receiver.url("/gone"), ["order.created"])
    kept = add_endpoint(api, receiver.url("/kept"), ["order.created"])
    create_order(api)
    assert api.delete(f"/webhooks/{gone['id']}").status_code == 200
    assert driver.drain() == 1
    assert [got.path for got in receiver.received] == ["/kept"]
    create_order(api)  # an event for `kept` alone, which goes before it is delivered
    assert api.delete(f"/webhooks/{kept['id']}").status_code == 200
    before = counts(client)
    assert before["outbox"] == (1 if sqlite(client) else 0)
    assert driver.drain() == 0
    after = counts(client)
    # SQLite drops the event no endpoint is left for; PostgreSQL wrote it in the request.
    assert after == {"outbox": 0, "events": before["events"], "deliveries": 0}
    assert len(receiver.received) == 1


def test_the_move_takes_the_oldest_first_in_batches(api, client, receiver):
    add_endpoint(api, receiver.url(), ["order.created"])
    for _ in range(5):
        create_order(api)

    async def move(database, limit):
        async with database.write() as connection:
            return await events.move(connection, limit)

    async def outbox_ids(database):
        async with database.read() as connection:
            rows = await connection.fetch(Query("SELECT event_id FROM webhook_outbox ORDER BY seq"))
            return [row["event_id"] for row in rows]

    async def moved_ids(database):
        async with database.read() as connection:
            return [row["id"] for row in await connection.fetch(_MOVED)]

    if not sqlite(client):  # nothing to move: the requests wrote the events
        assert run(client, lambda database: move(database, 2)) == 0
        assert len(run(client, moved_ids)) == 5
        return
    written = run(client, outbox_ids)
    assert len(written) == 5
    assert run(client, lambda database: move(database, 2)) == 2
    assert run(client, moved_ids) == written[:2]
    assert run(client, outbox_ids) == written[2:]
    assert run(client, lambda database: move(database, None)) == 3
    assert run(client, moved_ids) == written
    assert counts(client) == {"outbox": 0, "events": 5, "deliveries": 5}


def test_the_oldest_pending_gauge_counts_the_outbox(api, driver, clock, receiver):
    add_endpoint(api, receiver.url(), ["order.created"])
    create_order(api)
    clock.advance(seconds=90)
    assert 90 <= driver.oldest_pending() < 100  # on SQLite: still in the outbox
    assert driver.drain() == 1
    assert driver.oldest_pending() == 0


def test_a_backlog_for_endpoints_gone_does_not_hold_up_the_next_events(
    api, client, clock, receiver, monkeypatch
):
    """Events moved for nobody (their endpoint deleted) leave nothing to send; the dispatcher
    moves the next batch at once rather than after its poll interval."""
    monkeypatch.setattr(events, "MOVE_BATCH", 2)
    gone = add_endpoint(api, receiver.url("/gone"), ["order.created"])
    for _ in range(6):
        create_order(api)  # 3 batches for `gone`
    assert api.delete(f"/webhooks/{gone['id']}").status_code == 200
    add_endpoint(api, receiver.url("/kept"), ["order.created"])
    create_order(api)
    driver = Driver(client, clock, webhook_poll_interval=30.0)

    async def deliver(database):
        work = asyncio.ensure_future(driver.dispatcher.run_forever())
        started = time.monotonic()
        try:
            while not receiver.received and time.monotonic() - started < 10:
                await asyncio.sleep(0.05)
            return time.monotonic() - started
        finally:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)

    try:
        took = run(client, deliver)
    finally:
        driver.close()
    assert [got.path for got in receiver.received] == ["/kept"]
    assert took < 5.0  # not a 30 s poll interval per batch of the deleted endpoint's events


def test_a_busy_server_gets_only_what_a_claim_takes_moved(api, client, clock, receiver):
    """While the server is busy the dispatcher moves no more events than it claims, and the
    rest once the server is idle."""
    add_endpoint(api, receiver.url(), ["order.created"])
    for _ in range(5):
        create_order(api)
    driver = Driver(client, clock, webhook_concurrency=2)
    load = {"cpu": 0.0, "at": 0.0}
    pacer = Pacer(lambda: load["cpu"], clock=lambda: load["at"])
    load["cpu"] = load["at"] = 1.0  # the server used a whole core for the last second
    assert pacer.may_start() and pacer.busy
    driver.dispatcher.pacer = pacer
    try:
        assert driver.round() == 2
        assert counts(client)["outbox"] == (3 if sqlite(client) else 0)
        load["at"] += 1.0  # and no CPU since
        assert pacer.may_start() and not pacer.busy
        assert driver.drain() == 3
        assert counts(client) == {"outbox": 0, "events": 5, "deliveries": 5}
    finally:
        driver.close()
