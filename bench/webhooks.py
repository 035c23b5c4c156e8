"""Webhooks (issue 11, "Speed"), on the database the run has just measured, with a service of
its own (1 process; `INVOICING_WEBHOOK_ALLOW_PRIVATE=true`, so that it may post to 127.0.0.1) and
a receiver answering 204 in a process of its own (bench/receiver.py):

1. What an event costs `POST /invoices`: the run's POST /invoices scenario (fresh open orders,
   same wrk settings) with no endpoint and with one endpoint listening for `invoice.created`,
   interleaved, `--repeat` times. Each endpoint is created just before its run and deleted (with
   what it still had pending) right after, so that the next run starts from a quiet dispatcher;
   the report also counts what delivering those pending events costs, at 2.'s rate.
2. A backlog: 10,000 `invoice.created` events (the payload of a seeded invoice as its GET shows
   it) written for a disabled endpoint by the service's own `events.emit`, in-process, 500 per
   transaction; then a PATCH enables the endpoint, and the seconds until the receiver has every
   event are the figure (and until the last is recorded as delivered).
3. The p99 of `GET /invoices/{id}` with the dispatcher idle, and while it drains a backlog sized
   (from 2.'s rate) to outlast the run: one run of each (like the PDF stall of bench/run.py).

With `--keep`, the receiver's and the service's logs stay in the run's directory.
"""

import asyncio
import contextlib
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

from bench import load, procs
from bench.report import Backlog, Results, Sample, Webhooks
from bench.seed import Target
from invoicing.db import create_database
from invoicing.db.query import Query
from invoicing.webhooks import events

BACKLOG = 10_000
BATCH = 500  # events per transaction when writing a backlog
EVENT = "invoice.created"
# As every other service of the bench: documents made on request only, so that renders ahead do
# not share the idle time between runs and during the backlog with the delivery being measured.
ENV = {"INVOICING_WEBHOOK_ALLOW_PRIVATE": "true", "INVOICING_RENDER_AHEAD": "false"}
DRAIN_LIMIT = 180.0  # seconds to wait for a backlog before giving up on it
POLL = 0.05
# Runs of GET with the dispatcher idle and then draining (one each, like the PDF stall: every
# draining run needs a backlog written and delivered, which makes pairs dear).
LATENCY_PAIRS = 1

# Events still in SQLite's outbox (invoicing.webhooks.events) are pending deliveries too.
_IN_OUTBOX = "(SELECT count(*) FROM webhook_outbox WHERE endpoint_ids LIKE '%' || $1 || '%')"
_PENDING = Query(
    "SELECT count(*) + " + _IN_OUTBOX + " FROM webhook_deliveries "
    "WHERE endpoint_id = $1 AND next_attempt_at IS NOT NULL"
)
# SQLite: events a request wrote and the delivery process has not yet moved (or dropped).
_OUTBOXED = Query("SELECT count(*) FROM webhook_outbox")
_EVENTS = Query(
    "SELECT count(*) + " + _IN_OUTBOX + " FROM webhook_deliveries WHERE endpoint_id = $1"
)
_RETRIED = Query("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND attempts > 1")

Measure = Callable[[procs.Server, Path, float], Sample]
T = TypeVar("T")


class Api:
    """The service's API with the bench's admin token."""

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def call(self, method: str, path: str, body: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": f"Bearer {self.secret}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read())["data"]
        except urllib.error.HTTPError as error:
            raise RuntimeError(
                f"{method} {path} answered {error.code}: {error.read()[:500]!r}"
            ) from None

    def create_endpoint(self, receiver: procs.Server) -> str:
        endpoint = self.call(
            "POST",
            "/webhooks",
            {"url": f"{receiver.url}/hooks", "events": [EVENT], "description": "bench"},
        )
        return str(endpoint["id"])

    def enable(self, endpoint_id: str, enabled: bool) -> None:
        self.call("PATCH", f"/webhooks/{endpoint_id}", {"enabled": enabled})


class Outbox:
    """The bench's own connection to the database, through the service's `Database` classes."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.database = create_database(url, pool_size=2)
        self.run(self.database.connect())

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)

    def close(self) -> None:
        self.run(self.database.close())
        self.loop.close()

    def emit(self, count: int, data: Any) -> float:
        """`count` events, written as the service writes them; the seconds it took."""

        async def write() -> None:
            for start in range(0, count, BATCH):
                async with self.database.write() as connection:
                    for _ in range(min(BATCH, count - start)):
                        await events.emit(connection, EVENT, data)

        started = time.perf_counter()
        self.run(write())
        return time.perf_counter() - started

    def count(self, query: Query, endpoint_id: str) -> int:
        async def read() -> int:
            async with self.database.read() as connection:
                return int(await connection.fetchval(query, endpoint_id))

        return self.run(read())

    def pending(self, endpoint_id: str) -> int:
        return self.count(_PENDING, endpoint_id)

    def outboxed(self) -> int:
        async def read() -> int:
            async with self.database.read() as connection:
                return int(await connection.fetchval(_OUTBOXED))

        return self.run(read())


def start_receiver(directory: Path) -> procs.Server:
    port = procs.free_port()
    log = directory / f"receiver-{port}.log"
    pythonpath = os.pathsep.join(
        p for p in (str(procs.REPO), os.environ.get("PYTHONPATH", "")) if p
    )
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.receiver", "--port", str(port)],
            cwd=directory,
            env={**os.environ, "PYTHONPATH": pythonpath},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    receiver = procs.Server("receiver", 1, port, process, log)
    try:
        procs.wait_healthy(receiver)  # (it answers any GET)
    except BaseException:
        procs.stop(receiver)
        raise
    return receiver


def received(receiver: procs.Server) -> tuple[int, int]:
    """POSTs the receiver has answered, and their distinct webhook-ids."""
    with urllib.request.urlopen(f"{receiver.url}/count", timeout=10) as response:
        counts = json.loads(response.read())
    return int(counts["received"]), int(counts["unique"])


class WebhookBench:
    def __init__(
        self,
        *,
        size: int,
        target: Target,
        directory: Path,
        secret: str,
        invoice_id: str,
        duration: float,
        repeat: int,
        connections: int,
        threads: int,
        measure: Measure,
        post_script: Callable[[], Path],
        get_script: Callable[[], Path],
        results: Results,
    ) -> None:
        self.size = size
        self.target = target
        self.directory = directory
        self.secret = secret
        self.invoice_id = invoice_id
        self.duration = duration
        self.repeat = repeat
        self.connections = connections
        self.threads = threads
        self.measure = measure
        self.post_script = post_script
        self.get_script = get_script
        self.results = results
        self.figures = Webhooks(size, target.dialect, duration)

    def run(self) -> None:
        print(
            f"  webhooks ({self.target.dialect}): a service and a receiver of their own", flush=True
        )
        self.results.webhooks.append(self.figures)  # what is measured shows even if interrupted
        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            self.receiver = start_receiver(self.directory)
            stack.callback(procs.stop, self.receiver)
            self.service = procs.start_service(self.target.url, 1, self.directory, ENV)
            stack.callback(procs.stop, self.service)
            self.outbox = Outbox(self.target.url)
            stack.callback(self.outbox.close)
            self.api = Api(self.service.url, self.secret)
            self.event_cost()
            self.backlog()
            self.latency()
            got, unique = received(self.receiver)
            self.figures.duplicates = got - unique
        if self.figures.duplicates:
            self.results.notes.append(
                f"webhooks, {self.target.dialect}: the receiver got {self.figures.duplicates} "
                "events more than once"
            )
        if self.figures.retried:
            self.results.notes.append(
                f"webhooks, {self.target.dialect}: {self.figures.retried} deliveries took more "
                "than one attempt (the receiver answers 204 at once: none should)"
            )
        print(f"  webhooks took {time.monotonic() - started:.0f} s", flush=True)

    def cpu(self) -> float:
        """CPU seconds of the service's processes so far (its delivery process included)."""
        return procs.tree_cpu_seconds(self.service.process.pid)

    def warm_up(self, script: Path) -> None:
        load.run(self.service.url, script, 1, self.connections, self.threads)

    def drain(self, endpoint_id: str) -> float | None:
        """Wait until nothing is pending for the endpoint; the seconds it took (None: too long)."""
        started = time.monotonic()
        while self.outbox.pending(endpoint_id):
            if time.monotonic() - started > DRAIN_LIMIT:
                return None
            time.sleep(POLL)
        return time.monotonic() - started

    def quiet(self, endpoint_id: str) -> int:
        """Wait until the requests wrk left in the service at its end are done (else they would
        create events for the next endpoint); the events the endpoint got."""
        count, since = self.outbox.count(_EVENTS, endpoint_id), time.monotonic()
        while time.monotonic() - since < 0.5:
            time.sleep(POLL)
            now = self.outbox.count(_EVENTS, endpoint_id)
            if now != count:
                count, since = now, time.monotonic()
        return count

    def cleared(self) -> None:
        """Before each run: wait until the outbox is empty, then empty SQLite's WAL (PostgreSQL
        has neither). A deleted endpoint's events left in the outbox (some 25,000 after a run) are
        dropped by the delivery process, and those writes leave a WAL of their own: the run after
        one with an endpoint started with both under way, the others did not."""
        started = time.monotonic()
        while self.outbox.outboxed() and time.monotonic() - started < DRAIN_LIMIT:
            time.sleep(POLL)
        if self.target.dialect == "sqlite":  # and the WAL those writes left, back to empty
            with contextlib.closing(sqlite3.connect(self.target.name, timeout=30)) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def settle(self) -> int:
        """Wait until the receiver has had nothing new for a moment (the last attempts of a
        deleted endpoint, already claimed, still go out); what it has had."""
        count, since = received(self.receiver)[0], time.monotonic()
        while time.monotonic() - since < 0.5:
            time.sleep(POLL)
            now = received(self.receiver)[0]
            if now != count:
                count, since = now, time.monotonic()
        return count

    def report(self, name: str, variant: str, rep: int, sample: Sample, extra: str = "") -> None:
        print(
            f"  {name:<22} {variant:<10} rep {rep + 1}: {sample.rps:8,.0f} req/s  "
            f"p50 {sample.p50_ms:6.2f} ms  p99 {sample.p99_ms:7.2f} ms  "
            f"{sample.cpu_us:6,.0f} µs CPU/req{extra}",
            flush=True,
        )

    def event_cost(self) -> None:
        """POST /invoices without an endpoint and with one listening, interleaved, each first on
        alternate repetitions. Each endpoint goes (with the deliveries it still had pending) as
        soon as its run ends, and each run starts once what that left is cleared (`cleared`);
        what delivering those would have cost is counted at the backlog's rate
        (`report.Webhooks.with_delivery`)."""
        self.warm_up(self.post_script())
        endpoint = self.api.create_endpoint(self.receiver)
        self.warm_up(self.post_script())
        self.quiet(endpoint)
        self.api.call("DELETE", f"/webhooks/{endpoint}")
        for rep in range(self.repeat):
            runs = [self.without_endpoint, self.with_endpoint]
            for run in runs if rep % 2 == 0 else runs[::-1]:
                run(rep)

    def without_endpoint(self, rep: int) -> None:
        self.cleared()
        sample = self.measure(self.service, self.post_script(), self.duration)
        self.figures.without.append(sample)
        self.report("POST /invoices", "none", rep, sample)

    def with_endpoint(self, rep: int) -> None:
        self.cleared()
        endpoint = self.api.create_endpoint(self.receiver)
        sample = self.measure(self.service, self.post_script(), self.duration)
        left, at_end = self.outbox.pending(endpoint), self.outbox.count(_EVENTS, endpoint)
        created = self.quiet(endpoint)  # = invoices created
        left += created - at_end  # (the stragglers' events, pending too when they came)
        self.api.call("DELETE", f"/webhooks/{endpoint}")
        self.figures.with_endpoint.append(sample)
        self.figures.events.append((created, left))
        self.report(
            "POST /invoices",
            "1 endpoint",
            rep,
            sample,
            f"  ({left:,} of its {created:,} events pending at the end)",
        )

    def backlog(self) -> None:
        """BACKLOG events for a disabled endpoint, then enabled: how fast they go out."""
        data = self.api.call("GET", f"/invoices/{self.invoice_id}")
        endpoint = self.api.create_endpoint(self.receiver)
        self.api.enable(endpoint, False)
        written = self.outbox.emit(BACKLOG, data)
        before = self.settle()
        receiver_pids = procs.tree(self.receiver.process.pid)
        cpu, receiver_cpu = self.cpu(), procs.cpu_seconds(receiver_pids)
        started = time.monotonic()
        self.api.enable(endpoint, True)
        got, got_s = 0, None
        while time.monotonic() - started < DRAIN_LIMIT:
            got = received(self.receiver)[0] - before
            if got >= BACKLOG:
                got_s = time.monotonic() - started
                break
            time.sleep(POLL)
        rest = self.drain(endpoint)
        recorded_s = None if got_s is None or rest is None else time.monotonic() - started
        cpu = self.cpu() - cpu
        receiver_cpu = procs.cpu_seconds(receiver_pids) - receiver_cpu
        if rest is None:
            self.results.notes.append(
                f"webhooks, {self.target.dialect}: deliveries of the backlog still pending after "
                f"{DRAIN_LIMIT:g} s"
            )
        self.figures.retried += self.outbox.count(_RETRIED, endpoint)
        self.api.call("DELETE", f"/webhooks/{endpoint}")
        self.figures.backlog = Backlog(
            events=BACKLOG,
            written_s=written,
            received=got,
            received_s=got_s,
            recorded_s=recorded_s,
            service_cpu_us=cpu / max(got, 1) * 1e6,
            receiver_cpu_us=receiver_cpu / max(got, 1) * 1e6,
        )
        shown = "not all" if got_s is None else f"{got_s:.1f} s"
        print(
            f"  backlog of {BACKLOG:,}: written in {written:.1f} s, received in {shown} "
            f"({got:,}), recorded in "
            + ("—" if recorded_s is None else f"{recorded_s:.1f} s")
            + f"; service {cpu / max(got, 1) * 1e6:,.0f} µs CPU/event",
            flush=True,
        )

    def latency(self) -> None:
        """GET /invoices/{id} with the dispatcher idle, then while it drains a backlog."""
        b = self.figures.backlog
        rate = b.received / b.received_s if b is not None and b.received_s else 200.0
        # Enough to outlast the run: 3/4 of what the dispatcher delivers meanwhile with no load on
        # the side (with GET's load, about a third of that: checked below, and noted if not).
        size = min(max(int(rate * (self.duration + 2) * 0.75), 1000), 5 * BACKLOG)
        data = self.api.call("GET", f"/invoices/{self.invoice_id}")
        self.warm_up(self.get_script())
        for rep in range(LATENCY_PAIRS):
            endpoint = self.api.create_endpoint(self.receiver)
            sample = self.measure(self.service, self.get_script(), self.duration)
            self.figures.idle.append(sample)
            self.report("GET /invoices/{id}", "idle", rep, sample)

            self.api.enable(endpoint, False)
            self.outbox.emit(size, data)
            before = self.settle()
            self.api.enable(endpoint, True)
            time.sleep(0.5)  # under way
            sample = self.measure(self.service, self.get_script(), self.duration)
            sent = received(self.receiver)[0] - before
            left = self.outbox.pending(endpoint)
            self.api.call("DELETE", f"/webhooks/{endpoint}")  # and the rest of the backlog
            self.figures.draining.append(sample)
            self.figures.drained.append((sent, left))
            self.report(
                "GET /invoices/{id}",
                "draining",
                rep,
                sample,
                f"  ({sent:,} of {size:,} sent, {left:,} left at the end)",
            )
            if not left:
                print("    ! the backlog ran out before the run ended")
        if any(left == 0 for _, left in self.figures.drained):
            self.results.notes.append(
                f"webhooks, {self.target.dialect}: a backlog ran out before its GET run ended "
                f"(median sent {statistics.median(s for s, _ in self.figures.drained):,.0f})"
            )
