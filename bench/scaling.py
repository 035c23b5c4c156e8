"""The inputs of the scale-out model (bench/SCALING.md), measured on PostgreSQL.

    python -m bench.scaling                     # everything, about 8 minutes
    python -m bench.scaling --duration 8 --repeat 2 --json /tmp/scaling.json

On a fresh database seeded by the bench (`bench/seed.py`), with a real `invoicing serve`:

1. **How long the numbering lock is held per create.** Two triggers on `counters`, installed in the
   bench database only (the service is not changed): a `BEFORE UPDATE` row trigger on the
   `invoice` row (the `entityId` counter, the first row a create locks; it fires once the row lock
   is granted) notes `clock_timestamp()`, and a deferred constraint trigger on the same row fires
   when `COMMIT` starts (PostgreSQL runs deferred triggers at the start of the commit, before the
   WAL flush) and stores the difference in an unlogged table. What follows is the commit itself (WAL
   flush, then the locks are released): timed on its own (`BEGIN; UPDATE one row; COMMIT`, the
   `COMMIT` round trip, with `synchronous_commit` on and off). The triggers' own cost is measured
   too (the same upsert with and without them) and subtracted. hold = lock-to-commit + commit;
   the ceiling of one series is 1 / hold.
2. **CPU per request for each endpoint**, wrk at a fixed duration: the server's processes
   (`bench/procs.tree`), the PostgreSQL backends of the bench database (`/proc/<pid>/stat` of every
   `postgres` process whose title names it), wrk itself (`RUSAGE_CHILDREN`) and what the rest of the
   machine used meanwhile (`/proc/stat`), with the server pinned to CPU 0 and wrk to CPU 1.
3. **The check**: `GET /invoices/{id}` and `POST /invoices` with 1 and 2 server processes
   (interleaved), the model's prediction from the inputs of step 2 beside what was measured.
"""

import argparse
import asyncio
import base64
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg

from bench import load, procs, rows, seed
from bench.run import LARGE_INVOICES, ORDERS_PER_SECOND
from invoicing.auth.principal import Principal
from invoicing.config import Settings

_TICKS = os.sysconf("SC_CLK_TCK")
SERVER_CPU = 0
_BACKGROUND = {"walwriter", "checkpointer", "background", "autovacuum", "logical"}
LOAD_CPU = 1

PROBE_SQL = """
CREATE UNLOGGED TABLE IF NOT EXISTS scaling_lock_hold (
    wait_us float8, hold_us float8, before_lock_us float8
);
CREATE TABLE IF NOT EXISTS scaling_probe (id int PRIMARY KEY, v bigint NOT NULL);
INSERT INTO scaling_probe VALUES (1, 0) ON CONFLICT DO NOTHING;
CREATE OR REPLACE FUNCTION scaling_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('scaling.locked_at', clock_timestamp()::text, true);
    PERFORM set_config('scaling.wait_us',
        (extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1e6)::text, true);
    RETURN NEW;
END $$;
CREATE OR REPLACE FUNCTION scaling_precommit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    locked timestamptz := current_setting('scaling.locked_at')::timestamptz;
BEGIN
    INSERT INTO scaling_lock_hold VALUES (
        current_setting('scaling.wait_us')::float8,
        extract(epoch FROM clock_timestamp() - locked) * 1e6,
        extract(epoch FROM locked - now()) * 1e6);
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS scaling_locked ON counters;
DROP TRIGGER IF EXISTS scaling_precommit ON counters;
CREATE TRIGGER scaling_locked BEFORE UPDATE ON counters FOR EACH ROW
    WHEN (NEW.name = 'invoice') EXECUTE FUNCTION scaling_locked();
CREATE CONSTRAINT TRIGGER scaling_precommit AFTER UPDATE ON counters
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.name = 'invoice') EXECUTE FUNCTION scaling_precommit();
"""
# The service's own statement (invoicing/db/counters.py).
NEXT = (
    "INSERT INTO counters (name, value) VALUES ($1, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- 1. the commit and the triggers' own cost, timed with asyncpg -------------------------------


async def _commit_times(url: str, rounds: int) -> dict[str, float]:
    """Median µs of a `COMMIT` round trip after a one-row update, with synchronous_commit on and
    off (blocks interleaved), and of an empty `SELECT 1` round trip."""
    connection = await asyncpg.connect(url)
    times: dict[str, list[float]] = {"on": [], "off": [], "rtt": []}
    try:
        for block in range(rounds // 50):
            mode = "on" if block % 2 == 0 else "off"
            await connection.execute(f"SET synchronous_commit = {mode}")
            for _ in range(100):
                await connection.execute("BEGIN")
                await connection.execute("UPDATE scaling_probe SET v = v + 1 WHERE id = 1")
                started = time.perf_counter()
                await connection.execute("COMMIT")
                times[mode].append((time.perf_counter() - started) * 1e6)
                started = time.perf_counter()
                await connection.execute("SELECT 1")
                times["rtt"].append((time.perf_counter() - started) * 1e6)
    finally:
        await connection.close()
    return {name: statistics.median(values) for name, values in times.items()}


async def _trigger_cost(url: str, rounds: int) -> float:
    """µs the two probe triggers add to one create: the `entityId` upsert, then `SET CONSTRAINTS
    ... IMMEDIATE` (fires the deferred one), rolled back, with the triggers on and off."""
    connection = await asyncpg.connect(url)
    times: dict[bool, list[float]] = {True: [], False: []}
    try:
        for block in range(rounds // 50):
            enabled = block % 2 == 0
            await connection.execute(
                f"ALTER TABLE counters {'ENABLE' if enabled else 'DISABLE'} TRIGGER scaling_locked;"
                f"ALTER TABLE counters {'ENABLE' if enabled else 'DISABLE'} TRIGGER "
                "scaling_precommit"
            )
            for _ in range(50):
                await connection.execute("BEGIN")
                started = time.perf_counter()
                await connection.fetchval(NEXT, "invoice")
                await connection.execute("SET CONSTRAINTS scaling_precommit IMMEDIATE")
                times[enabled].append((time.perf_counter() - started) * 1e6)
                await connection.execute("ROLLBACK")
        await connection.execute("ALTER TABLE counters ENABLE TRIGGER ALL")
        await connection.execute("TRUNCATE scaling_lock_hold")
    finally:
        await connection.close()
    return statistics.median(times[True]) - statistics.median(times[False])


async def _execute(url: str, sql: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def _holds(url: str) -> list[tuple[float, float, float]]:
    """The probe's rows since the last call (and clears them)."""
    connection = await asyncpg.connect(url)
    try:
        found = await connection.fetch(
            "DELETE FROM scaling_lock_hold RETURNING wait_us, hold_us, before_lock_us"
        )
    finally:
        await connection.close()
    return [(r["wait_us"], r["hold_us"], r["before_lock_us"]) for r in found]


# --- 2. CPU of everything involved in a run ---------------------------------------------------


def _postgres_pids(database: str) -> tuple[list[int], list[int]]:
    """(backends of `database`, background processes of the server: shared with other users)."""
    mine, background = [], []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        if not title.startswith("postgres:"):
            continue
        words = title.split()
        if database in words:
            mine.append(int(entry))
        elif _BACKGROUND & set(words[1:3]):  # `postgres: [cluster:] walwriter`
            background.append(int(entry))
    return mine, background


def _is_helper(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"invoicing.documents.worker" in command or b"invoicing.webhooks.worker" in command


def _cpu_by_pid(pids: list[int]) -> dict[int, float]:
    return {pid: procs.cpu_seconds([pid]) for pid in pids}


def _machine_busy() -> list[float]:
    """Busy CPU seconds so far: the whole machine, then each CPU."""
    busy = []
    for line in Path("/proc/stat").read_text().splitlines():
        if not line.startswith("cpu"):
            break
        v = [int(x) for x in line.split()[1:]]
        busy.append((sum(v[:8]) - v[3] - v[4]) / _TICKS)  # all but idle and iowait
    return busy


def pin(server: procs.Server, cpus: set[int] | None) -> None:
    for pid in procs.tree(server.process.pid):
        try:
            os.sched_setaffinity(pid, cpus if cpus is not None else set(range(os.cpu_count() or 1)))
        except OSError:
            continue


@dataclass
class Run:
    scenario: str
    workers: int
    pinned: bool
    connections: int
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_us: float  # CPU per request: the server's processes (helpers included)
    helpers_us: float  # of which its helper processes (render pool, webhook delivery)
    postgres_us: float  # the bench database's backends
    postgres_background_us: float  # walwriter, checkpointer...: shared with other databases
    wrk_us: float
    others_cores: float  # cores the rest of the machine used meanwhile (others' tests, ...)
    cpu_busy: list[float]  # each CPU's busy share during the run
    load_average: float
    holds: dict[str, float] = field(default_factory=dict)


class Measure:
    def __init__(self, target: seed.Target, duration: float, taskset: bool) -> None:
        self.target = target
        self.duration = duration
        self.taskset = taskset and shutil.which("taskset") is not None

    def wrk(self, url: str, script: Path, seconds: float, connections: int) -> load.WrkResult:
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s", "--latency",
            "-s", str(script), url,
        ]  # fmt: skip
        if self.taskset:
            command = ["taskset", "-c", str(LOAD_CPU), *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
        return load.parse(done.stdout)

    def run(
        self,
        name: str,
        server: procs.Server,
        script: Callable[[], Path],
        connections: int,
        pinned: bool,
        holds: bool = False,
    ) -> Run:
        pin(server, {SERVER_CPU} if pinned else None)
        self.wrk(server.url, script(), 1, connections)  # warm-up: pools, caches, lazy imports
        if holds:
            asyncio.run(_holds(self.target.url))
        server_pids = procs.tree(server.process.pid)
        helper_pids = [pid for pid in server_pids if _is_helper(pid)]
        before_helpers = procs.cpu_seconds(helper_pids)
        mine, background = _postgres_pids(self.target.name)
        before_server = procs.cpu_seconds(server_pids)
        before_pg, before_bg = _cpu_by_pid(mine), procs.cpu_seconds(background)
        before_busy = _machine_busy()
        before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        result = self.wrk(server.url, script(), self.duration, connections)
        elapsed = time.perf_counter() - started
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy = [after - before for after, before in zip(_machine_busy(), before_busy, strict=True)]
        server_cpu = procs.cpu_seconds(server_pids) - before_server
        helpers_cpu = procs.cpu_seconds(helper_pids) - before_helpers
        mine_after, _ = _postgres_pids(self.target.name)
        pg_cpu = sum(
            procs.cpu_seconds([pid]) - before_pg.get(pid, 0.0)
            for pid in set(mine_after) | set(mine)
            if Path(f"/proc/{pid}").exists()
        )
        bg_cpu = procs.cpu_seconds(background) - before_bg
        wrk_cpu = (children.ru_utime + children.ru_stime) - (
            before_children.ru_utime + before_children.ru_stime
        )
        n = max(result.requests, 1)
        run = Run(
            scenario=name,
            workers=server.workers,
            pinned=pinned,
            connections=connections,
            seconds=elapsed,
            requests=result.requests,
            rps=result.rps,
            p50_ms=result.p50_ms,
            p99_ms=result.p99_ms,
            errors=result.non_2xx + result.socket_errors,
            server_us=server_cpu / n * 1e6,
            helpers_us=helpers_cpu / n * 1e6,
            postgres_us=pg_cpu / n * 1e6,
            postgres_background_us=bg_cpu / n * 1e6,
            wrk_us=wrk_cpu / n * 1e6,
            others_cores=max(0.0, (busy[0] - server_cpu - pg_cpu - bg_cpu - wrk_cpu) / elapsed),
            cpu_busy=[b / elapsed for b in busy[1:]],
            load_average=os.getloadavg()[0],
        )
        if holds:
            found = asyncio.run(_holds(self.target.url))
            run.holds = {
                "count": len(found),
                "wait_p50_us": percentile([w for w, _, _ in found], 0.5),
                "hold_p50_us": percentile([h for _, h, _ in found], 0.5),
                "hold_mean_us": statistics.fmean([h for _, h, _ in found]) if found else 0.0,
                "hold_p99_us": percentile([h for _, h, _ in found], 0.99),
                "before_lock_p50_us": percentile([b for _, _, b in found], 0.5),
            }
        print(_line(run), flush=True)
        return run


def _line(run: Run) -> str:
    where = "pinned cpu0" if run.pinned else "unpinned"
    text = (
        f"  {run.scenario:<24} {run.workers}w {where:<11} c{run.connections:<3} "
        f"{run.rps:7,.0f} req/s p50 {run.p50_ms:6.2f} ms | CPU µs/req server {run.server_us:5,.0f} "
        f"(helpers {run.helpers_us:4,.0f}) "
        f"pg {run.postgres_us:4,.0f} (+bg {run.postgres_background_us:3,.0f}) "
        f"wrk {run.wrk_us:3,.0f} | others {run.others_cores:.2f} cores, "
        f"busy {'/'.join(f'{b:.2f}' for b in run.cpu_busy)}, load {run.load_average:.1f}"
    )
    if run.errors:
        text += f" | {run.errors} ERRORS"
    if run.holds:
        h = run.holds
        text += (
            f"\n    lock: {h['count']:.0f} creates, hold p50 {h['hold_p50_us']:,.0f} µs "
            f"(mean {h['hold_mean_us']:,.0f}, p99 {h['hold_p99_us']:,.0f}) to COMMIT, "
            f"wait p50 {h['wait_p50_us']:,.0f} µs, "
            f"transaction start to lock p50 {h['before_lock_p50_us']:,.0f} µs"
        )
    return text


# --- the scenarios ------------------------------------------------------------------------------

GET, POST, ORDERS, LIST, PAYMENT, CREDIT_NOTE = (
    "GET /invoices/{id}",
    "POST /invoices",
    "POST /orders",
    "GET /invoices deep",
    "POST .../payments",
    "POST .../credit-notes",
)


@dataclass
class Bench:
    target: seed.Target
    directory: Path
    secret: str
    seeder: seed.Seeder
    size: int
    duration: float
    files: dict[str, Path] = field(default_factory=dict)
    count: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))

    def script(self, scenario: str) -> Path:
        d, n = self.directory, next(self.count)
        if scenario == POST:
            orders = self.seeder.open_orders(int(ORDERS_PER_SECOND * (self.duration + 1)))
            path = load.write_lines(d / f"orders-{n}.txt", orders)
            return load.write_script(
                d / "post.lua", load.POST_INVOICE, token=self.secret, orders=path
            )
        templates: dict[str, Callable[[], Path]] = {
            GET: lambda: load.write_script(
                d / "get.lua", load.GET_INVOICE, token=self.secret, ids=self.files["ids"], seed=n
            ),
            ORDERS: lambda: load.write_script(
                d / "order.lua", load.POST_ORDER, token=self.secret, body=load.POST_ORDER_BODY
            ),
            LIST: lambda: load.write_script(
                d / "list.lua",
                load.LIST_DEEP,
                token=self.secret,
                cursors=self.files["cursors"],
                seed=n,
            ),
            PAYMENT: lambda: load.write_script(
                d / "payment.lua", load.POST_PAYMENT, token=self.secret, invoices=self.files["paid"]
            ),
            CREDIT_NOTE: lambda: load.write_script(
                d / "credit.lua",
                load.POST_CREDIT_NOTE,
                token=self.secret,
                invoices=self.files["credited"],
            ),
        }
        return templates[scenario]()


def prepare(directory: Path, size: int, duration: float) -> Bench:
    target = seed.create("postgresql", directory)
    try:
        procs.cli(["migrate"], target.url, directory)
        token = procs.cli(
            ["tokens", "create", "--name", "bench", "--type", "admin"], target.url, directory
        )
        secret = token.strip().splitlines()[-1]
        created = re.search(r"token ([0-9a-f]{24}) ", token)
        if created is None:
            raise RuntimeError(f"no token id in:\n{token}")
        seeder = seed.Seeder(
            target, Principal(created.group(1), "bench", "admin"), Settings(database_url=target.url)
        )
        seeder.invoices(size, 2 * LARGE_INVOICES)
    except BaseException:
        seed.drop(target)
        raise
    bench = Bench(target, directory, secret, seeder, size, duration)
    rng = random.Random(size)
    ids = [rows.invoice_id(i) for i in rng.sample(range(size), min(size, 100_000))]
    bench.files["ids"] = load.write_lines(directory / "ids.txt", ids)
    cursors = [
        base64.urlsafe_b64encode(f"s{rng.randint(size // 4, size // 2) + 1}".encode())
        .decode()
        .rstrip("=")
        for _ in range(1000)
    ]
    bench.files["cursors"] = load.write_lines(directory / "cursors.txt", cursors)
    large = [f"{i} {line}" for i, line in seeder.large_invoices(2 * LARGE_INVOICES)]
    bench.files["paid"] = load.write_lines(directory / "paid.txt", large[:LARGE_INVOICES])
    bench.files["credited"] = load.write_lines(directory / "credited.txt", large[LARGE_INVOICES:])
    return bench


@contextmanager
def serving(bench: Bench, workers: int) -> Iterator[procs.Server]:
    server = procs.start_service(bench.target.url, workers, bench.directory)
    try:
        yield server
    finally:
        procs.stop(server)


def median_run(runs: list[Run]) -> dict[str, Any]:
    """Medians of the numeric fields over the repetitions."""
    out: dict[str, Any] = {"scenario": runs[0].scenario, "workers": runs[0].workers}
    out["pinned"] = runs[0].pinned
    out["connections"] = runs[0].connections
    for name in (
        "rps",
        "p50_ms",
        "server_us",
        "helpers_us",
        "postgres_us",
        "postgres_background_us",
        "wrk_us",
        "others_cores",
        "load_average",
    ):
        out[name] = statistics.median(getattr(r, name) for r in runs)
    if runs[0].holds:
        for name in runs[0].holds:
            out[f"lock_{name}"] = statistics.median(r.holds[name] for r in runs)
    out["errors"] = sum(r.errors for r in runs)
    return out


def predict(inputs: dict[str, Any], workers: int, pinned: bool, others: float) -> float:
    """The model (bench/SCALING.md): the smallest of the bounds. `inputs`: CPU µs per request
    measured with 1 process; `others`: cores the rest of the machine used meanwhile."""
    cores = os.cpu_count() or 1
    server, pg, wrk = (inputs[k] / 1e6 for k in ("server_us", "postgres_us", "wrk_us"))
    server_cores = 1 if pinned else min(workers, cores)
    bounds = [
        server_cores / server,  # the server's processes: one core each at most
        max(cores - others, 0.1) / (server + pg + wrk),  # all the CPU the machine has left
    ]
    if "lock_hold_total_us" in inputs:
        bounds.append(1e6 / inputs["lock_hold_total_us"])
    return float(min(bounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per wrk run (8)")
    parser.add_argument("--repeat", type=int, default=2, help="repetitions, medians (2)")
    parser.add_argument("--invoices", type=int, default=1000, help="seeded invoices (1,000)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--commit-rounds", type=int, default=600, help="timed commits (600)")
    parser.add_argument("--no-taskset", action="store_true", help="do not pin wrk and the server")
    parser.add_argument(
        "--only-reference", action="store_true", help="only the reference's GET (calibration)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip the 1 vs 2 process check")
    parser.add_argument("--json", type=Path, help="write every run and the inputs as JSON here")
    args = parser.parse_args(argv)
    if not load.available():
        print(load.INSTALL_HINT, file=sys.stderr)
        return 2
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as name:
        bench = prepare(Path(name), args.invoices, args.duration)
        try:
            report = measure(bench, args)
        finally:
            seed.drop(bench.target)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"written {args.json}")
    return 0


def measure(bench: Bench, args: argparse.Namespace) -> dict[str, Any]:
    url = bench.target.url
    asyncio.run(_execute(url, PROBE_SQL))
    commit = asyncio.run(_commit_times(url, args.commit_rounds))
    trigger = asyncio.run(_trigger_cost(url, 400))
    print(
        f"COMMIT round trip: {commit['on']:.0f} µs synchronous, {commit['off']:.0f} µs without "
        f"the flush (SELECT 1: {commit['rtt']:.0f} µs); probe triggers add {trigger:.0f} µs",
        flush=True,
    )
    m = Measure(bench.target, args.duration, not args.no_taskset)
    c = args.connections
    runs: list[Run] = []
    # The machine's state: the reference app's CPU per GET, to compare with bench/RESULTS.md's.
    reference = procs.start_reference(url, 1, bench.directory)
    try:
        for _ in range(args.repeat):
            get = partial(bench.script, GET)
            runs.append(m.run(f"reference {GET}", reference, get, c, True))
    finally:
        procs.stop(reference)
    if args.only_reference:
        return {"runs": [asdict(r) for r in runs]}
    with serving(bench, 1) as server:
        for scenario in (GET, POST, ORDERS, LIST, PAYMENT, CREDIT_NOTE):
            for _ in range(args.repeat):
                script = partial(bench.script, scenario)
                runs.append(m.run(scenario, server, script, c, True, scenario == POST))
        for _ in range(args.repeat):  # one create at a time: the hold without any queueing
            runs.append(m.run(POST, server, partial(bench.script, POST), 1, True, holds=True))
    if not args.no_check:
        for _ in range(args.repeat):
            for workers, pinned in ((1, True), (2, False), (2, True), (1, False)):
                with serving(bench, workers) as server:
                    for scenario in (GET, POST):
                        script = partial(bench.script, scenario)
                        runs.append(m.run(scenario, server, script, c, pinned, scenario == POST))

    groups: dict[tuple[str, int, bool, int], list[Run]] = {}
    for r in runs:
        groups.setdefault((r.scenario, r.workers, r.pinned, r.connections), []).append(r)
    medians = [median_run(g) for g in groups.values()]
    for row in medians:
        if "lock_hold_p50_us" in row:
            row["lock_hold_total_us"] = row["lock_hold_p50_us"] - trigger + commit["on"]
            row["ceiling_per_s"] = 1e6 / row["lock_hold_total_us"]
    inputs = {(r["scenario"]): r for r in medians if r["workers"] == 1 and r["pinned"]}
    check = []
    for row in medians:
        if row["connections"] != c or row["scenario"] not in (GET, POST):
            continue
        base = dict(inputs[row["scenario"]])
        if row["scenario"] == POST and (POST, 1, True, 1) in groups:  # the uncontended hold
            base["lock_hold_total_us"] = next(
                m["lock_hold_total_us"] for m in medians if m["connections"] == 1
            )
        else:
            base.pop("lock_hold_total_us", None)
        idle = predict(base, row["workers"], row["pinned"], 0.0)
        loaded = predict(base, row["workers"], row["pinned"], row["others_cores"])
        check.append({**row, "predicted_idle": idle, "predicted_loaded": loaded})
        print(
            f"  check {row['scenario']:<20} {row['workers']}w "
            f"{'pinned' if row['pinned'] else 'unpinned':<8}: measured {row['rps']:7,.0f}, "
            f"predicted {loaded:7,.0f} with the others' {row['others_cores']:.2f} cores "
            f"({(row['rps'] / loaded - 1) * 100:+.0f} %), {idle:7,.0f} on an idle machine",
            flush=True,
        )
    return {
        "commit_us": commit,
        "trigger_us": trigger,
        "runs": [asdict(r) for r in runs],
        "medians": medians,
        "check": check,
    }


if __name__ == "__main__":
    raise SystemExit(main())
