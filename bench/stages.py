"""Where `POST /invoices` spends its time inside the service: `invoices.service.create` called
in-process, one write transaction per call (as the route does), on a fresh database seeded by the
bench, with the wall time of each stage it calls. No HTTP, no wrk, no concurrency: one call
after another, so the round trips and the Python work of one invoice show.

    python -m bench.stages sqlite            # or postgresql; --count N (3000), --profile FILE
    python -m bench.stages sqlite --endpoint # half of them with a webhook endpoint listening

Also runs an older tree for comparison (its own `invoicing` and `bench` first on the path):
`PYTHONPATH=/tmp/old python /work/main/bench/stages.py sqlite`; stages the tree lacks are skipped.
"""

import argparse
import asyncio
import cProfile
import functools
import importlib
import inspect
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import seed
from invoicing.auth.principal import Principal
from invoicing.config import Settings
from invoicing.core.times import now
from invoicing.db import create_database
from invoicing.db.query import Query
from invoicing.invoices import service
from invoicing.invoices.schemas import InvoiceCreate
from invoicing.web.responses import success_body

WARM_UP = 300
_SERVICE = "invoicing.invoices.service"
# (module, function, label): what `create` calls, as it finds them (module attributes at call time).
STAGES = [
    (_SERVICE, "create", "create (all of it)"),
    ("invoicing.orders.service", "lock_for_invoicing", "lock the order, read its lines"),
    ("invoicing.seller.service", "current", "seller.current (read, build)"),
    ("invoicing.seller.service", "snapshot", "seller.snapshot (read with the order)"),
    ("invoicing.db.counters", "document_numbers", "counters.document_numbers (both numbers)"),
    ("invoicing.invoices.repository", "next_number", "repository.next_number (before 0003)"),
    (_SERVICE, "invoice_part", "invoice_part (amounts, taxes)"),
    (_SERVICE, "totals", "money.totals (before 0003)"),
    ("invoicing.invoices.repository", "insert", "insert the invoice and its lines"),
    ("invoicing.orders.service", "record_billed", "record_billed (order lines, order)"),
    ("invoicing.orders.service", "record_invoiced", "record_invoiced (before 0003)"),
    (_SERVICE, "to_json", "to_json"),
    ("invoicing.web.serialize", "dumps", "serialize.dumps (the seller copy)"),
    ("invoicing.web.serialize", "dumps_taxes", "serialize.dumps_taxes"),
    ("invoicing.orders.service", "exemptions", "orders.exemptions"),
    ("invoicing.orders.service", "loads_billed_taxes", "orders.loads_billed_taxes"),
    (_SERVICE, "today", "today()"),
    (_SERVICE, "_due_date", "_due_date"),
    (_SERVICE, "settle", "settle"),
    ("invoicing.webhooks.events", "emit", "events.emit (invoice.created)"),
]
# --endpoint: invoices alternate, in blocks of this many, between no webhook endpoint and one
# listening for invoice.created (so that drifts of the machine hit both halves alike).
BLOCK = 100
_ADD_ENDPOINT = Query(
    "INSERT INTO webhook_endpoints (id, url, description, events, enabled, secret, created_at, "
    "updated_at) VALUES ('stagesendpoint0000000000', 'http://127.0.0.1:9/', 'bench.stages', "
    "'[\"invoice.created\"]', true, 'unused', $1, $1)"
)
_DROP_ENDPOINT = Query("DELETE FROM webhook_endpoints WHERE id = 'stagesendpoint0000000000'")
SUCCESS_BODY = "success_body (the response's JSON)"


class Timer:
    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}

    def wrap(self, module_name: str, name: str, label: str) -> None:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            return
        function = getattr(module, name, None)
        if function is None:
            return
        times = self.times.setdefault(label, [])
        wrapped: Callable[..., Any]
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def wrapped(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    times.append(time.perf_counter() - started)

        else:

            @functools.wraps(function)
            def wrapped(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    times.append(time.perf_counter() - started)

        setattr(module, name, wrapped)


def _cli(args: list[str], url: str, cwd: Path) -> str:
    script = Path(sys.executable).parent / "invoicing"
    done = subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env={**os.environ, "INVOICING_DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def _drive(
    url: str,
    orders: list[str],
    creator: Principal,
    settings: Settings,
    timer: Timer,
    profiler: cProfile.Profile | None,
    endpoint: bool,
) -> tuple[list[float], list[float]]:
    database = create_database(url)
    await database.connect()
    create: Callable[..., Any] = service.create
    takes_settings = "settings" in inspect.signature(create).parameters  # since schema 0003
    bodies = timer.times.setdefault(SUCCESS_BODY, [])
    walls: list[float] = []
    cpus: list[float] = []
    try:
        for index, order_id in enumerate(orders):
            if endpoint and index % BLOCK == 0:
                async with database.write() as connection:
                    if index // BLOCK % 2:
                        await connection.execute(_ADD_ENDPOINT, now())
                    else:
                        await connection.execute(_DROP_ENDPOINT)
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler is not None:
                profiler.enable()
            payload = InvoiceCreate.model_validate_json(f'{{"orderId":"{order_id}"}}')
            async with database.write() as connection:
                extra = (settings,) if takes_settings else ()
                data = await service.create(connection, creator, payload, *extra)
                started = time.perf_counter()
                success_body(data, message="Invoice created successfully")
                bodies.append(time.perf_counter() - started)
            if profiler is not None:
                profiler.disable()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    finally:
        await database.close()
    return walls, cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__)
    parser.add_argument("dialect", choices=["sqlite", "postgresql"])
    parser.add_argument("--count", type=int, default=3000, help="invoices timed (after 300)")
    parser.add_argument("--profile", type=Path, help="also write a cProfile of the calls here")
    parser.add_argument(
        "--endpoint",
        action="store_true",
        help=f"alternate blocks of {BLOCK} invoices without and with a webhook endpoint listening",
    )
    args = parser.parse_args(argv)
    timer = Timer()
    for module_name, name, label in STAGES:
        timer.wrap(module_name, name, label)
    scratch = tempfile.TemporaryDirectory(prefix="bench-stages-")
    directory = Path(scratch.name)
    target = seed.create(args.dialect, directory)
    try:
        _cli(["migrate"], target.url, directory)
        token = _cli(
            ["tokens", "create", "--name", "bench", "--type", "admin"], target.url, directory
        )
        found = re.search(r"token ([0-9a-f]{24}) ", token)
        assert found is not None, token
        creator = Principal(found.group(1), "bench", "admin")
        settings = Settings(database_url=target.url)
        seeder: Any
        if "creator" in inspect.signature(seed.Seeder).parameters:
            seeder = seed.Seeder(target, creator, settings)
            seeder.invoices(1000, 2000)
        else:  # an older tree's bench
            seeder = seed.Seeder(target)  # type: ignore[call-arg]
            seeder.invoices(1000)
        orders = seeder.open_orders(args.count + WARM_UP)
        profiler = cProfile.Profile() if args.profile else None
        walls, cpus = asyncio.run(
            _drive(target.url, orders, creator, settings, timer, profiler, args.endpoint)
        )
    finally:
        seed.drop(target)
        scratch.cleanup()
    if profiler is not None:
        profiler.dump_stats(args.profile)
    tree = Path(service.__file__).resolve().parent.parent.parent
    print(
        f"{args.dialect}, {tree}: {args.count} invoices, per invoice: wall median "
        f"{statistics.median(walls[WARM_UP:]) * 1e6:.0f} µs (with BEGIN and COMMIT), "
        f"CPU {statistics.mean(cpus[WARM_UP:]) * 1e6:.0f} µs"
    )
    if args.endpoint:
        for half, name in (
            (0, "without an endpoint"),
            (1, "with one"),
        ):
            timed = [i for i in range(WARM_UP, len(walls)) if i // BLOCK % 2 == half]
            print(
                f"  {name:<20} wall median {statistics.median(walls[i] for i in timed) * 1e6:.0f} "
                f"µs, CPU {statistics.mean(cpus[i] for i in timed) * 1e6:.0f} µs"
            )
    calls = len(orders)
    for label, times in timer.times.items():
        if times:
            per_invoice = len(times) // calls
            mean = statistics.mean(times[WARM_UP * per_invoice :])
            print(f"  {label:<42} {mean * 1e6:8.1f} µs x {per_invoice}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
