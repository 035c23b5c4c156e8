"""Webhook tests: real receivers on 127.0.0.1, and the app's dispatcher run round by round on a
clock the test moves (hours pass in microseconds)."""

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from invoicing.app import create_app
from invoicing.config import Settings
from invoicing.core.times import now
from invoicing.db.base import Database
from invoicing.webhooks.dispatcher import Dispatcher
from tests.conftest import Api, run
from tests.receivers import Receiver, receiving


class Clock:
    """Real time plus what the test has moved it on by (events are stamped with real time)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return now() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


class Driver:
    """The dispatcher of the app under test, run one round at a time."""

    def __init__(self, client: TestClient, clock: Clock, **settings: Any) -> None:
        self.client = client
        self.clock = clock
        app_settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
        self.settings = app_settings.model_copy(update=settings)

        async def build(database: Database) -> Dispatcher:
            return Dispatcher(
                database,
                self.settings,
                client.app.state.secret_box,  # type: ignore[attr-defined]
                clock=clock,
                rng=random.Random(7),
            )

        self.dispatcher: Dispatcher = run(client, build)

    def round(self) -> int:
        """One round: what is due now is sent and its outcome recorded; how many were sent."""
        count: int = run(self.client, lambda database: self.dispatcher.run_once())
        return count

    def drain(self) -> int:
        total = 0
        while sent := self.round():
            total += sent
        return total

    def close(self) -> None:
        run(self.client, lambda database: self.dispatcher.close())

    def oldest_pending(self) -> float:
        """The gauge of the oldest undelivered event's age, updated now, as /metrics shows it."""
        run(self.client, lambda database: self.dispatcher.update_gauge(now=True))
        for text_line in self.client.get("/metrics").text.splitlines():
            if text_line.startswith("invoicing_webhook_oldest_pending_seconds "):
                return float(text_line.split()[-1])
        raise AssertionError("no gauge")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def driver(client: TestClient, clock: Clock) -> Iterator[Driver]:
    driver = Driver(client, clock)
    yield driver
    driver.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from receiving()


def add_endpoint(api: Api, url: str, events: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url}
    if events is not None:
        body["events"] = events
    response = api.post("/webhooks", json=body)
    assert response.status_code == 201, response.text
    endpoint: dict[str, Any] = response.json()["data"]
    return endpoint


@pytest.fixture(scope="session")
def public_only_app(database_url: str, outbox: Any) -> Iterator[TestClient]:
    """An app with the default: webhooks only to public addresses."""
    settings = Settings(
        database_url=database_url, outbox_dir=outbox, smtp_url=None, webhook_dispatch=False
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as app:
        yield app
