"""Delivers the outbox: in every server process, one task claims due deliveries, posts them with
bounded concurrency, and records each outcome.

A claim counts the attempt and leases the delivery (its `next_attempt_at` moves past the attempt's
time limit) in one short transaction, so no other process takes it meanwhile (PostgreSQL: the
candidates are read `FOR UPDATE SKIP LOCKED`, so processes claiming at once take different rows;
SQLite: the write lock lets one process claim at a time). A process that dies mid-attempt leaves
the lease to run out, and the delivery is tried again: at least once, never lost."""

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from invoicing.core.pacing import Pacer
from invoicing.core.times import now
from invoicing.db.base import Database, Row
from invoicing.webhooks import events, repository, retries
from invoicing.webhooks.sender import Message, Outcome, Sender
from invoicing.webhooks.signing import SecretBox

log = logging.getLogger("invoicing.webhooks")

GONE = "The receiver answered 410 Gone"
GAVE_UP = "Deliveries kept failing for 3 days"
LEASE_MARGIN = timedelta(seconds=60)
GAUGE_EVERY = timedelta(seconds=5)
GATHER = 0.01
# Finished deliveries stay listed (GET /webhooks/{id}/deliveries) until they are this old; then
# they go, with their events.
KEEP_FINISHED = timedelta(days=30)
PRUNE_EVERY = timedelta(hours=1)


class Metrics:
    """Where the dispatcher's figures go: this process's Prometheus metrics (the default), or the
    server whose child it runs in (`invoicing.webhooks.worker`, which so never imports
    prometheus_client)."""

    def attempted(self, outcome: str) -> None:
        from invoicing.webhooks.metrics import ATTEMPTS

        ATTEMPTS.labels(outcome).inc()

    def oldest_pending(self, seconds: float) -> None:
        from invoicing.webhooks.metrics import OLDEST_PENDING

        OLDEST_PENDING.set(seconds)

    def flush(self) -> None:
        """The figures of a round are complete."""


class DispatchSettings(Protocol):
    """What a dispatcher reads of its settings: the server's `Settings` (tests, the command
    line), or the `DeliverySettings` its delivery process gets (no pydantic there)."""

    @property
    def webhook_allow_private(self) -> bool: ...
    @property
    def webhook_timeout(self) -> float: ...
    @property
    def webhook_concurrency(self) -> int: ...
    @property
    def webhook_concurrency_per_endpoint(self) -> int: ...
    @property
    def webhook_poll_interval(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Claimed:
    seq: int
    endpoint_id: str
    attempts: int
    first_attempt_at: datetime
    message: Message


class Dispatcher:
    def __init__(
        self,
        database: Database,
        settings: DispatchSettings,
        box: SecretBox,
        *,
        clock: Callable[[], datetime] = now,
        rng: random.Random | None = None,
        metrics: Metrics | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """`pacer`: when new attempts may start (by default, whenever there is room)."""
        self.database = database
        self.pacer = pacer
        self.box = box
        self.clock = clock
        self.rng = rng or random.Random()
        self.metrics = metrics or Metrics()
        self.capacity = settings.webhook_concurrency
        self.per_endpoint = settings.webhook_concurrency_per_endpoint
        self.poll_interval = settings.webhook_poll_interval
        self.lease = timedelta(seconds=settings.webhook_timeout) + LEASE_MARGIN
        self.sender = Sender(
            timeout=settings.webhook_timeout,
            allow_private=settings.webhook_allow_private,
            connections=self.capacity,
        )
        self._wake = asyncio.Event()
        self._outbox_behind = False
        self._gauge_at: datetime | None = None
        self._pruned_at: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        await self.sender.close()

    async def run_once(self) -> int:
        """Claim what is due now (up to the concurrency), send it, record the outcomes; how many
        were sent. The whole round, for tests and the command line."""
        claimed = await self.claim(self.capacity, collections.Counter())
        outcomes = await asyncio.gather(*(self.sender.send(c.message) for c in claimed))
        await self.record(list(zip(claimed, outcomes, strict=True)))
        return len(claimed)

    async def run_forever(self) -> None:
        """Keep up to `capacity` attempts in flight, claiming more as earlier ones finish, so
        that one slow receiver holds its own slots and not the others'."""
        in_flight: dict[asyncio.Task[Outcome], Claimed] = {}
        per_endpoint: collections.Counter[str] = collections.Counter()
        while True:
            try:
                self._outbox_behind = False
                free = self.capacity - len(in_flight)
                if free > 0 and (self.pacer is None or self.pacer.may_start()):
                    for claimed in await self.claim(free, per_endpoint):
                        task = asyncio.create_task(self.sender.send(claimed.message))
                        in_flight[task] = claimed
                        per_endpoint[claimed.endpoint_id] += 1
                await self.update_gauge()
                await self.prune()
                if not in_flight:
                    if not self._outbox_behind:  # else the next batch now, not after a poll
                        await self._idle()
                    continue
                done, _ = await asyncio.wait(
                    in_flight, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED
                )
                if done and len(done) < len(in_flight):
                    # Whatever else finishes in the next few milliseconds is recorded in the
                    # same transaction: on SQLite each commit waits for the disk and holds the
                    # write lock meanwhile (bench: 1.4 deliveries a round without this).
                    more, _ = await asyncio.wait(in_flight.keys() - done, timeout=GATHER)
                    done |= more
                finished = []
                for task in done:
                    claimed = in_flight.pop(task)
                    per_endpoint[claimed.endpoint_id] -= 1
                    finished.append((claimed, task.result()))
                await self.record(finished)
            except asyncio.CancelledError:
                for task in in_flight:
                    task.cancel()
                raise
            except Exception:
                # The database away, most likely: the leases of what was in flight run out and
                # those deliveries are tried again; /health reports the database.
                log.exception("webhook dispatcher round failed; retrying")
                await self._idle()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.poll_interval):
                await self._wake.wait()
        self._wake.clear()

    async def claim(self, free: int, busy: collections.Counter[str]) -> list[Claimed]:
        at = self.clock()
        async with self.database.read() as connection:
            arrived = await events.waiting(connection)
            if not arrived and not await repository.any_due(connection, at):
                return []
        full = [endpoint for endpoint, count in busy.items() if count >= self.per_endpoint]
        async with self.database.write() as connection:
            if arrived:
                # While the server is busy, only what this claim can take; the rest moves in
                # batches once it is idle. Moving an event costs 50-60 µs of CPU, and a batch of
                # 200 holds SQLite's write lock 13-16 ms, which the API's writes wait for
                # (measured: `events.move` of 4,000 events in-process, in batches of 200 and 32).
                loaded = self.pacer is not None and self.pacer.busy
                batch = free if loaded else events.MOVE_BATCH
                moved = await events.move(connection, batch)
                # A full batch moved: more may wait, behind events of endpoints since deleted or
                # disabled, which leave nothing to claim (bench: a backlog behind 18,000 of them
                # took 61 s at a batch per poll interval).
                self._outbox_behind = moved == batch
            candidates = await repository.due(connection, at, free * 4, full)
            taking = dict(busy)
            chosen: list[int] = []
            for row in candidates:
                if len(chosen) == free:
                    break
                if taking.get(row["endpoint_id"], 0) < self.per_endpoint:
                    taking[row["endpoint_id"]] = taking.get(row["endpoint_id"], 0) + 1
                    chosen.append(row["seq"])
            if not chosen:
                return []
            rows = await repository.claim(connection, chosen, at, at + self.lease)
        return [self._claimed(row, at) for row in rows]

    def _claimed(self, row: Row, at: datetime) -> Claimed:
        secrets = [self.box.open(row["secret"])]
        until = _time(row["previous_secret_until"])
        if row["previous_secret"] is not None and until is not None and at < until:
            secrets.append(self.box.open(row["previous_secret"]))
        return Claimed(
            seq=row["seq"],
            endpoint_id=row["endpoint_id"],
            attempts=row["attempts"],
            first_attempt_at=_time(row["first_attempt_at"]) or at,
            message=Message(row["url"], row["event_id"], row["payload"], secrets),
        )

    async def record(self, finished: list[tuple[Claimed, Outcome]]) -> None:
        if not finished:
            return
        at = self.clock()
        delivered: list[tuple[int, datetime, int]] = []
        failed: list[tuple[int, datetime | None, int | None, str | None]] = []
        disable: dict[str, str] = {}
        for claimed, outcome in finished:
            self.metrics.attempted(outcome.label)
            if outcome.delivered:
                assert outcome.status_code is not None
                delivered.append((claimed.seq, at, outcome.status_code))
                continue
            upcoming = retries.next_attempt(
                claimed.attempts, claimed.first_attempt_at, at, self.rng
            )
            error = outcome.error or f"HTTP {outcome.status_code}"
            failed.append((claimed.seq, upcoming, outcome.status_code, error[:300]))
            if outcome.gone:
                disable[claimed.endpoint_id] = GONE
            elif upcoming is None:
                disable.setdefault(claimed.endpoint_id, GAVE_UP)
            log.warning(
                "webhook delivery failed",
                extra={
                    "fields": {
                        "endpoint": claimed.endpoint_id,
                        "event": claimed.message.event_id,
                        "attempt": claimed.attempts,
                        "error": error,
                        "next_attempt_at": None if upcoming is None else upcoming.isoformat(),
                    }
                },
            )
        async with self.database.write() as connection:
            await repository.lock(connection, [claimed.seq for claimed, _ in finished])
            await repository.record_delivered(connection, delivered)
            await repository.record_failed(connection, failed)
            for endpoint_id, reason in disable.items():
                await repository.disable(connection, endpoint_id, reason, at)
        self.metrics.flush()

    async def prune(self, *, now: bool = False) -> None:
        """Forget finished deliveries of events over 30 days old, and those events (hourly)."""
        at = self.clock()
        if not now and self._pruned_at is not None and at - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = at
        async with self.database.write() as connection:
            await repository.prune(connection, at - KEEP_FINISHED)

    async def update_gauge(self, *, now: bool = False) -> None:
        """The age of the oldest undelivered event, every few seconds (or `now`)."""
        at = self.clock()
        if not now and self._gauge_at is not None and at - self._gauge_at < GAUGE_EVERY:
            return
        self._gauge_at = at
        async with self.database.read() as connection:
            oldest = _time(await repository.oldest_pending(connection))
        self.metrics.oldest_pending(
            0 if oldest is None else max(0.0, (at - oldest).total_seconds())
        )
        self.metrics.flush()


def _time(value: Any) -> datetime | None:
    """A stored time: PostgreSQL gives a datetime, SQLite the ISO 8601 text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)
