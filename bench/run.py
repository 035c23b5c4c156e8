"""One run: for each size and database, seed, start the service and the reference, drive wrk."""

import base64
import random
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import console, load, memory, procs, rows, seed, verify, webhooks
from bench.report import (
    CONSOLE,
    CREDIT_NOTE,
    GET,
    LIST,
    ORDERS,
    PAYMENT,
    PDF,
    PDF_STORED,
    POST,
    Key,
    Memory,
    Results,
    Sample,
)
from invoicing.auth.principal import Principal
from invoicing.config import Settings

ORDERS_PER_SECOND = 4000  # more open orders than any server here can invoice per second
# Large invoices for each of payments and credit notes: more than the connections, so that the
# requests in flight at one time (taking them in turn) never wait for each other's invoice.
LARGE_INVOICES = 1000
# PDFs stored before `GET /invoices/{id}/pdf stored` runs: the ids its requests draw from.
STORED_PDFS = 64
# First renders per second one connection could ask for at most (one-page PDFs take 65-105 ms):
# each run of first renders starts this many ids x its seconds further on in the ids file.
FIRST_RENDERS_PER_SECOND = 20
# The service's settings for every run: documents are made on request only, so that what a
# scenario measures (and the reference beside it) never shares the machine with renders ahead.
SERVICE_ENV = {"INVOICING_RENDER_AHEAD": "false"}


@dataclass
class Options:
    sizes: list[int]
    dialects: list[str]
    duration: float
    repeat: int
    connections: int
    threads: int
    soak: float  # seconds; 0 for none
    keep: bool
    webhooks: bool = True  # bench/webhooks.py, at the first size


def pdf_request(server: procs.Server, secret: str, invoice_id: str) -> urllib.request.Request:
    return urllib.request.Request(
        f"{server.url}/invoices/{invoice_id}/pdf", headers={"Authorization": f"Bearer {secret}"}
    )


def fetch_pdf(server: procs.Server, secret: str, invoice_id: str) -> bytes:
    """The invoice's PDF (rendered and stored by this request, if it was not yet)."""
    with urllib.request.urlopen(pdf_request(server, secret, invoice_id), timeout=60) as response:
        pdf: bytes = response.read()
        return pdf


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


class Bench:
    def __init__(self, options: Options, results: Results) -> None:
        self.o = options
        self.results = results

    def measure(
        self, server: procs.Server, script: Path, duration: float, connections: int | None = None
    ) -> Sample:
        pids = procs.tree(server.process.pid)
        cpu = procs.tree_cpu_seconds(server.process.pid)
        with procs.MemorySampler(pids) as memory:
            result = load.run(
                server.url, script, duration, connections or self.o.connections, self.o.threads
            )
        cpu = procs.tree_cpu_seconds(server.process.pid) - cpu
        errors = result.non_2xx + result.socket_errors
        if errors:
            print(f"    ! {errors} non-2xx responses or socket errors")
        return Sample(
            result.rps,
            result.p50_ms,
            result.p99_ms,
            cpu / max(result.requests, 1) * 1e6,
            memory.peak / 2**20,
            errors,
        )

    def scenario(
        self,
        size: int,
        dialect: str,
        name: str,
        servers: list[procs.Server],
        script: Callable[[], Path],
        connections: int | None = None,
    ) -> None:
        for server in servers:  # warm-up: statement caches, pools, lazy imports
            load.run(server.url, script(), 1, connections or self.o.connections, self.o.threads)
        for rep in range(self.o.repeat):
            # Interleaved, so drifts of the machine hit both alike, and first on alternate
            # repetitions, so neither always runs right after the scenario's setup.
            for server in servers if rep % 2 == 0 else servers[::-1]:
                sample = self.measure(server, script(), self.o.duration, connections)
                key = Key(size, dialect, name, server.name, server.workers)
                self.results.add(key, sample)
                print(
                    f"  {name:<22} {server.name:<9} {server.workers}w rep {rep + 1}: "
                    f"{sample.rps:8,.0f} req/s  p50 {sample.p50_ms:6.2f} ms  "
                    f"p99 {sample.p99_ms:7.2f} ms  "
                    f"{sample.cpu_us:6,.0f} µs CPU/req  {sample.rss_mb:5.0f} MB",
                    flush=True,
                )

    def database(self, size: int, dialect: str, directory: Path) -> None:
        target = seed.create(dialect, directory)
        try:
            self._database(size, dialect, directory, target)
        finally:
            seed.drop(target)

    def _database(self, size: int, dialect: str, directory: Path, target: seed.Target) -> None:
        print(f"\n== {dialect}, {size:,} invoices ({directory})", flush=True)
        procs.cli(["migrate"], target.url, directory)
        token = procs.cli(
            ["tokens", "create", "--name", "bench", "--type", "admin"], target.url, directory
        )
        secret = token.strip().splitlines()[-1]
        created = re.search(r"token ([0-9a-f]{24}) ", token)
        if created is None:
            raise RuntimeError(f"no token id in the output of `invoicing tokens create`:\n{token}")
        creator = Principal(created.group(1), "bench", "admin")
        # The service's settings: it runs with this environment (and the database URL).
        seeder = seed.Seeder(target, creator, Settings(database_url=target.url))
        seconds = seeder.invoices(size, 2 * LARGE_INVOICES)
        self.results.seeding.append(
            f"{dialect}: {size:,} invoices (+ orders, 5 lines each) and {2 * LARGE_INVOICES:,} "
            f"large ones for payments and credit notes in {seconds:.1f} s"
        )
        print(f"  seeded in {seconds:.1f} s", flush=True)
        large = [f"{invoice} {line}" for invoice, line in seeder.large_invoices(2 * LARGE_INVOICES)]
        paid_file = load.write_lines(directory / "paid.txt", large[:LARGE_INVOICES])
        credited_file = load.write_lines(directory / "credited.txt", large[LARGE_INVOICES:])

        rng = random.Random(size)
        ids = [rows.invoice_id(i) for i in rng.sample(range(size), min(size, 100_000))]
        ids_file = load.write_lines(directory / "ids.txt", ids)
        cursors = [_cursor(rng.randint(size // 4, size // 2) + 1) for _ in range(1000)]
        cursors_file = load.write_lines(directory / "cursors.txt", cursors)
        scripts = directory / "scripts"
        scripts.mkdir(exist_ok=True)
        runs = iter(range(1_000_000))

        def get_script() -> Path:
            return load.write_script(
                scripts / "get.lua", load.GET_INVOICE, token=secret, ids=ids_file, seed=next(runs)
            )

        def post_script() -> Path:
            count = int(ORDERS_PER_SECOND * max(self.o.duration, 1))
            orders = load.write_lines(
                scripts / f"orders-{next(runs)}.txt", seeder.open_orders(count)
            )
            return load.write_script(
                scripts / "post.lua", load.POST_INVOICE, token=secret, orders=orders
            )

        def payment_script() -> Path:
            return load.write_script(
                scripts / "payment.lua", load.POST_PAYMENT, token=secret, invoices=paid_file
            )

        def credit_note_script() -> Path:
            return load.write_script(
                scripts / "credit-note.lua",
                load.POST_CREDIT_NOTE,
                token=secret,
                invoices=credited_file,
            )

        def console_script() -> Path:
            return load.write_script(
                scripts / "console.lua",
                load.CONSOLE_LIST,
                cookie=console.session_cookie(service.url, secret),
                cursors=cursors_file,
                seed=next(runs),
            )

        def order_script() -> Path:
            return load.write_script(
                scripts / "order.lua", load.POST_ORDER, token=secret, body=load.POST_ORDER_BODY
            )

        def list_script() -> Path:
            return load.write_script(
                scripts / "list.lua",
                load.LIST_DEEP,
                token=secret,
                cursors=cursors_file,
                seed=next(runs),
            )

        service = procs.start_service(target.url, 1, directory, SERVICE_ENV)
        reference = procs.start_reference(target.url, 1, directory)
        try:
            self.verify(target, service, secret)
            self.scenario(size, dialect, GET, [service, reference], get_script)
            self.scenario(size, dialect, POST, [service, reference], post_script)
            self.scenario(size, dialect, PAYMENT, [service], payment_script)
            self.scenario(size, dialect, CREDIT_NOTE, [service], credit_note_script)
            self.scenario(size, dialect, LIST, [service], list_script)
            self.scenario(size, dialect, ORDERS, [service], order_script)
            self.scenario(size, dialect, CONSOLE, [service], console_script, connections=1)
            if size == self.o.sizes[0]:
                self.pdf(size, dialect, service, secret, ids, scripts, get_script)
            soaking = self.o.soak and dialect == self.o.dialects[0] and size == self.o.sizes[0]
            if soaking:
                self.soak(size, dialect, service, scripts, secret, ids_file, seeder)
        finally:
            procs.stop(reference)
            procs.stop(service)
        if soaking:
            self.workers_memory(target.url, directory, secret, seeder)
        if dialect == "postgresql":
            service = procs.start_service(target.url, 2, directory, SERVICE_ENV)
            try:
                self.scenario(size, dialect, GET, [service], get_script)
            finally:
                procs.stop(service)
        if self.o.webhooks and size == self.o.sizes[0]:
            webhooks.WebhookBench(
                size=size,
                target=target,
                directory=directory,
                secret=secret,
                invoice_id=ids[0],
                duration=self.o.duration,
                repeat=self.o.repeat,
                connections=self.o.connections,
                threads=self.o.threads,
                measure=self.measure,
                post_script=post_script,
                get_script=get_script,
                results=self.results,
            ).run()

    def verify(self, target: seed.Target, service: procs.Server, secret: str) -> None:
        differences = verify.seeded_like_service(target, service.url, secret)
        if not differences:
            print("  seeded rows = the service's own (bench/verify.py)", flush=True)
            return
        for difference in differences:
            print(f"  ! seeded rows differ from the service's: {difference}")
        self.results.notes.append(
            f"{target.dialect}: the seeded rows differ from the service's (bench/verify.py): "
            + "; ".join(differences)
        )

    def pdf(
        self,
        size: int,
        dialect: str,
        service: procs.Server,
        secret: str,
        ids: list[str],
        scripts: Path,
        get_script: Callable[[], Path],
    ) -> None:
        request = pdf_request(service, secret, ids[0])
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                kind = response.headers.get("content-type", "")
        except urllib.error.HTTPError as error:
            note = f"GET /invoices/{{id}}/pdf answered {error.code}: PDF not measured ({dialect})"
            if note not in self.results.notes:
                self.results.notes.append(note)
            print(f"  {note}")
            return
        if not kind.startswith("application/pdf"):
            self.results.notes.append(f"GET /invoices/{{id}}/pdf answered {kind!r}, not a PDF")
            return
        ids_file = scripts.parent / "ids.txt"
        step = int(FIRST_RENDERS_PER_SECOND * max(self.o.duration, 1))

        def first_renders(run: int) -> Path:
            """PDFs never asked for (from ids[1:]: ids[0] was above), run after run."""
            return load.write_script(
                scripts / f"pdf-{run}.lua",
                load.GET_PDF_FIRST,
                token=secret,
                ids=ids_file,
                offset=1 + run * step,
            )

        for rep in range(self.o.repeat):  # one request at a time: the latency of one PDF
            sample = self.measure(service, first_renders(rep), self.o.duration, connections=1)
            self.results.add(Key(size, dialect, PDF, "service", 1), sample)
            print(f"  {PDF:<22} service   1w rep {rep + 1}: p50 {sample.p50_ms:.1f} ms", flush=True)
        self.stored_pdfs(size, dialect, service, secret, ids, scripts)
        pdf = first_renders(self.o.repeat)
        if self.results.pdf_stall is None:  # GET's tail alone, then while 2 connections fetch PDFs
            time.sleep(1)  # let the last PDF finish
            alone = self.measure(service, get_script(), self.o.duration)
            with subprocess.Popen(
                ["wrk", "-t1", "-c2", f"-d{self.o.duration + 2:g}s", "-s", str(pdf), service.url],
                stdout=subprocess.DEVNULL,
            ) as background:
                time.sleep(1)
                during = self.measure(service, get_script(), self.o.duration)
                background.wait()
            self.results.pdf_stall = (alone.p99_ms, during.p99_ms)

    def stored_pdfs(
        self,
        size: int,
        dialect: str,
        service: procs.Server,
        secret: str,
        ids: list[str],
        scripts: Path,
    ) -> None:
        """`GET /invoices/{id}/pdf` served as stored, at full load like `GET /invoices/{id}` (the
        issue's target: at least half its throughput, same run)."""
        stored = ids[-STORED_PDFS:]  # not among the first renders' (they go from the start)
        for invoice_id in stored:  # each rendered and stored once, here
            fetch_pdf(service, secret, invoice_id)
        stored_file = load.write_lines(scripts / "stored-pdfs.txt", stored)
        runs = iter(range(1_000_000))

        def script() -> Path:
            return load.write_script(
                scripts / "pdf-stored.lua",
                load.GET_PDF,
                token=secret,
                ids=stored_file,
                seed=next(runs),
            )

        self.scenario(size, dialect, PDF_STORED, [service], script)

    def soak(
        self,
        size: int,
        dialect: str,
        service: procs.Server,
        scripts: Path,
        secret: str,
        ids_file: Path,
        seeder: seed.Seeder,
    ) -> None:
        print(f"  soak: {self.o.soak:g} s of 3 GET : 1 POST /invoices", flush=True)
        orders = load.write_lines(
            scripts / "soak-orders.txt",
            seeder.open_orders(int(ORDERS_PER_SECOND / 4 * self.o.soak)),
        )
        script = load.write_script(
            scripts / "mixed.lua", load.MIXED, token=secret, ids=ids_file, orders=orders, seed=7
        )
        pids = procs.tree(service.process.pid)
        with procs.MemorySampler(pids, interval=1.0) as sampler:
            load.run(service.url, script, self.o.soak, self.o.connections, self.o.threads)
        self.results.soak = sampler.samples
        reference = self.results.median(Key(size, dialect, GET, "reference", 1))
        self.results.memory = Memory(
            reference_mb=reference.rss_mb if reference else None,
            after_soak=memory.breakdown(service),
        )
        print(f"  memory after the soak: {self.results.memory.after_soak.describe()}", flush=True)

    def workers_memory(
        self, database_url: str, directory: Path, secret: str, seeder: seed.Seeder
    ) -> None:
        """The whole of `serve --workers 4` once it has rendered PDFs (so that its render pool
        runs), idle: issue 15 wants at most 4 x one worker + one pool."""
        server = procs.start_service(database_url, memory.WORKERS, directory, SERVICE_ENV)
        try:
            api = webhooks.Api(server.url, secret)
            for order_id in seeder.open_orders(2 * memory.WORKERS):
                invoice = api.call("POST", "/invoices", {"orderId": order_id})
                fetch_pdf(server, secret, invoice["id"])
            time.sleep(memory.SETTLE)
            found = memory.breakdown(server)
        finally:
            procs.stop(server)
        assert self.results.memory is not None
        self.results.memory.workers = found
        print(f"  --workers {memory.WORKERS}, idle: {found.describe()}", flush=True)


def run(options: Options, results: Results) -> None:
    bench = Bench(options, results)
    for size in options.sizes:
        for dialect in options.dialects:
            if options.keep:
                directory = Path(tempfile.mkdtemp(prefix=f"bench-{dialect}-"))
                bench.database(size, dialect, directory)
            else:
                with tempfile.TemporaryDirectory(prefix=f"bench-{dialect}-") as name:
                    bench.database(size, dialect, Path(name))
