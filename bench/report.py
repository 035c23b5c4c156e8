"""Medians, ratios to the reference, the performance targets, the table, bench/RESULTS.md."""

import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.memory import Breakdown

GET, POST, ORDERS, LIST, PDF = (
    "GET /invoices/{id}",
    "POST /invoices",
    "POST /orders",
    "GET /invoices deep",
    "GET /invoices/{id}/pdf",
)
PAYMENT, CREDIT_NOTE = "POST /invoices/{id}/payments", "POST /invoices/{id}/credit-notes"
# A PDF stored already (issue 15: served as stored, ≥ 0.5x GET /invoices/{id} in the same run).
PDF_STORED = "GET /invoices/{id}/pdf stored"
# The console's invoice list, 50 a page at deep cursors, one connection: its latency is the
# server's time for the page.
CONSOLE = "GET /admin/invoices deep (50, c1)"
# The reference has neither: they are compared with its POST /invoices (issue: ≥ 0.5x).
SETTLEMENTS = (PAYMENT, CREDIT_NOTE)


@dataclass(frozen=True)
class Key:
    size: int
    dialect: str
    scenario: str
    server: str
    workers: int


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # CPU time of the server processes per request
    rss_mb: float  # peak summed RSS of the server processes
    errors: int  # non-2xx responses and socket errors


def median(runs: list[Sample]) -> Sample | None:
    if not runs:
        return None
    return Sample(
        *(
            statistics.median(getattr(s, f) for s in runs)
            for f in ("rps", "p50_ms", "p99_ms", "cpu_us", "rss_mb")
        ),
        errors=sum(s.errors for s in runs),  # type: ignore[misc]
    )


@dataclass
class Backlog:
    """A backlog of events for one endpoint, delivered by one server process (bench/webhooks.py)."""

    events: int
    written_s: float  # writing them (the service's `events.emit`, in-process)
    received: int  # what the receiver got (all of them, unless the time limit ran out)
    received_s: float | None  # from the PATCH enabling the endpoint to the receiver having all
    recorded_s: float | None  # ... to the last one recorded as delivered
    service_cpu_us: float  # the service's CPU time per event meanwhile
    receiver_cpu_us: float


@dataclass
class Webhooks:
    """One database's webhook figures (bench/webhooks.py)."""

    size: int
    dialect: str
    duration: float  # of each run
    without: list[Sample] = field(default_factory=list)  # POST /invoices, no endpoint
    with_endpoint: list[Sample] = field(default_factory=list)  # one endpoint listening
    # Per run with the endpoint: its events (= the invoices it created), and how many of them
    # were still pending when it ended.
    events: list[tuple[int, int]] = field(default_factory=list)
    backlog: Backlog | None = None
    idle: list[Sample] = field(default_factory=list)  # GET /invoices/{id}, dispatcher idle
    draining: list[Sample] = field(default_factory=list)  # ... while it drains a backlog
    drained: list[tuple[int, int]] = field(default_factory=list)  # per such run: sent, left
    retried: int = 0  # deliveries that took more than one attempt (none expected)
    duplicates: int = 0  # events the receiver got more than once (none expected)

    def with_delivery(self) -> tuple[float, float] | None:
        """The runs with the endpoint counting the delivery of what each left pending, at the
        backlog's rate and CPU per event (medians): requests ÷ (the run's seconds + those of
        delivering the rest), and the service's CPU µs per request."""
        b = self.backlog
        if b is None or not b.received_s or not self.events:
            return None
        rate = b.received / b.received_s
        rps = [events / (self.duration + left / rate) for events, left in self.events]
        cpu = [
            sample.cpu_us + left * b.service_cpu_us / max(events, 1)
            for sample, (events, left) in zip(self.with_endpoint, self.events, strict=True)
        ]
        return statistics.median(rps), statistics.median(cpu)


@dataclass
class Memory:
    """Issue 15's resident memory: the service after the soak (beside the reference's RSS in the
    same run), and `--workers 4` idle after rendering."""

    reference_mb: float | None
    after_soak: Breakdown
    workers: Breakdown | None = None


@dataclass
class Results:
    samples: dict[Key, list[Sample]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seeding: list[str] = field(default_factory=list)
    soak: list[tuple[float, int]] | None = None
    pdf_stall: tuple[float, float] | None = None  # GET p99 alone, GET p99 while PDFs render
    webhooks: list[Webhooks] = field(default_factory=list)
    memory: Memory | None = None

    def add(self, key: Key, sample: Sample) -> None:
        self.samples.setdefault(key, []).append(sample)

    def median(self, key: Key) -> Sample | None:
        return median(self.samples.get(key, []))


def _reference(key: Key) -> Key:
    scenario = POST if key.scenario in SETTLEMENTS else key.scenario
    return Key(key.size, key.dialect, scenario, "reference", 1)


HEADER = (
    "| invoices | db | scenario | server | w | req/s | p50 ms | p99 ms | p99/p50 | CPU µs/req "
    "| RSS MB | x req/s | x p50 | x p99 | x CPU | x RSS | errors |"
)


def table(results: Results) -> list[str]:
    rows = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    for key in results.samples:
        s = results.median(key)
        assert s is not None
        ref = results.median(_reference(key)) if key.server != "reference" else None
        ratios = ["", "", "", "", ""]
        if ref is not None:
            ratios = [
                f"{s.rps / ref.rps:.2f}",
                f"{s.p50_ms / ref.p50_ms:.2f}",
                f"{s.p99_ms / ref.p99_ms:.2f}",
                f"{s.cpu_us / ref.cpu_us:.2f}",
                f"{s.rss_mb / ref.rss_mb:.2f}",
            ]
        rows.append(
            f"| 10^{len(str(key.size)) - 1} | {key.dialect} | {key.scenario} | {key.server} "
            f"| {key.workers} "
            f"| {s.rps:,.0f} | {s.p50_ms:.2f} | {s.p99_ms:.2f} | {s.p99_ms / s.p50_ms:.1f} "
            f"| {s.cpu_us:,.0f} | {s.rss_mb:.0f} | " + " | ".join(ratios) + f" | {s.errors} |"
        )
    return rows


@dataclass
class Target:
    name: str
    value: str
    passed: bool


# Issue 15 ("Speed, round two"): throughput and CPU per request against the reference.
THROUGHPUT = 0.8
CPU_PER_REQUEST = {GET: 1.15, POST: 1.3}


def targets(results: Results, sizes: list[int], dialects: list[str]) -> list[Target]:
    found: list[Target] = []
    med = results.median
    for size in sizes:
        for dialect in dialects:
            for scenario in (GET, POST):
                s, r = (
                    med(Key(size, dialect, scenario, "service", 1)),
                    med(Key(size, dialect, scenario, "reference", 1)),
                )
                if s is None or r is None:
                    continue
                where = f"{scenario}, {dialect}, {size:,} invoices"
                ratio = s.rps / r.rps
                found.append(
                    Target(
                        f"req/s ≥ {THROUGHPUT} x reference: {where}",
                        f"{ratio:.2f}x",
                        ratio >= THROUGHPUT,
                    )
                )
                cpu, most = s.cpu_us / r.cpu_us, CPU_PER_REQUEST[scenario]
                found.append(
                    Target(
                        f"CPU per request ≤ {most} x reference's: {where}",
                        f"{cpu:.2f}x ({s.cpu_us:,.0f} vs {r.cpu_us:,.0f} µs)",
                        cpu <= most,
                    )
                )
                tail = (s.p99_ms / s.p50_ms) / (r.p99_ms / r.p50_ms)
                found.append(
                    Target(f"p99/p50 ≤ 1.5 x reference's: {where}", f"{tail:.2f}x", tail <= 1.5)
                )
            reference = med(Key(size, dialect, POST, "reference", 1))
            for scenario in SETTLEMENTS:
                s = med(Key(size, dialect, scenario, "service", 1))
                if s is None or reference is None:
                    continue
                ratio = s.rps / reference.rps
                found.append(
                    Target(
                        f"req/s ≥ 0.5 x reference's POST /invoices: {scenario}, {dialect}, "
                        f"{size:,} invoices",
                        f"{ratio:.2f}x",
                        ratio >= 0.5,
                    )
                )
            one, two = (
                med(Key(size, dialect, GET, "service", 1)),
                med(Key(size, dialect, GET, "service", 2)),
            )
            if one and two:
                gain = two.rps / one.rps
                found.append(
                    Target(
                        f"2 workers ≥ 1.6 x 1 worker (GET): {dialect}, {size:,} invoices",
                        f"{gain:.2f}x",
                        gain >= 1.6,
                    )
                )
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for dialect in dialects:
            for scenario in (GET, POST, LIST):
                a, b = (
                    med(Key(small, dialect, scenario, "service", 1)),
                    med(Key(large, dialect, scenario, "service", 1)),
                )
                if a and b:
                    ratio = b.p50_ms / a.p50_ms
                    found.append(
                        Target(
                            f"p50 at {large:,} ≤ 1.2 x at {small:,}: {scenario}, {dialect}",
                            f"{ratio:.2f}x",
                            ratio <= 1.2,
                        )
                    )
    for key in results.samples:
        if key.scenario == CONSOLE:
            page = med(key)
            assert page is not None
            found.append(
                Target(
                    f"console list page of 50 ≤ 30 ms: {key.dialect}, {key.size:,} invoices",
                    f"{page.p50_ms:.1f} ms (p99 {page.p99_ms:.1f})",
                    page.p50_ms <= 30,
                )
            )
        if key.scenario == PDF_STORED:
            stored, get = med(key), med(Key(key.size, key.dialect, GET, "service", 1))
            if stored and get:
                ratio = stored.rps / get.rps
                found.append(
                    Target(
                        f"stored PDF req/s ≥ 0.5 x GET /invoices/{{id}}'s: {key.dialect}, "
                        f"{key.size:,} invoices",
                        f"{ratio:.2f}x ({stored.rps:,.0f} vs {get.rps:,.0f} req/s)",
                        ratio >= 0.5,
                    )
                )
        if key.scenario == PDF:
            pdf = med(key)
            assert pdf is not None
            found.append(
                Target(
                    f"one-page PDF, first render, median ≤ 100 ms ({key.dialect}, c1)",
                    f"{pdf.p50_ms:.0f} ms",
                    pdf.p50_ms <= 100,
                )
            )
    if results.pdf_stall is not None:
        alone, during = results.pdf_stall
        found.append(
            Target(
                "GET p99 while PDFs render ≤ 1.5 x GET p99 alone",
                f"{during / alone:.2f}x ({alone:.1f} → {during:.1f} ms)",
                during <= 1.5 * alone,
            )
        )
    found += webhook_targets(results)
    if results.memory is not None:
        found += memory_targets(results.memory)
    if results.soak:
        after_warmup = [rss for t, rss in results.soak if t >= 5] or [
            rss for _, rss in results.soak
        ]
        growth = after_warmup[-1] / after_warmup[0] - 1
        found.append(
            Target(
                "RSS flat over the soak (growth ≤ 10 %)",
                f"{growth:+.1%} ({after_warmup[0] / 2**20:.0f} → "
                f"{after_warmup[-1] / 2**20:.0f} MB)",
                growth <= 0.10,
            )
        )
    return found


# Issue 15: resident memory.
SERVER_RSS, RENDER_PROCESS_MB = 2.0, 80


def memory_targets(memory: Memory) -> list[Target]:
    found: list[Target] = []
    mb = 2**20
    soaked = memory.after_soak
    if memory.reference_mb:
        ratio = soaked.server / mb / memory.reference_mb
        found.append(
            Target(
                f"server process RSS after the soak ≤ {SERVER_RSS:g} x the reference's",
                f"{ratio:.2f}x ({soaked.server / mb:.0f} vs {memory.reference_mb:.0f} MB)",
                ratio <= SERVER_RSS,
            )
        )
    renders = soaked.of("render")
    if renders:
        found.append(
            Target(
                f"each render process, idle, ≤ {RENDER_PROCESS_MB} MB",
                " / ".join(f"{rss / mb:.0f}" for rss in renders) + " MB",
                max(renders) <= RENDER_PROCESS_MB * mb,
            )
        )
    if memory.workers is not None:
        # One worker: a server process and its delivery child; one pool: the pool process and
        # its render processes, as the soaked service shows them (its heap grown by the soak,
        # where `--workers 4` is measured idle). The total counts the supervisor too.
        worker = soaked.server + sum(soaked.of("delivery"))
        pool = sum(soaked.of("pool")) + sum(renders)
        bound = 4 * worker + pool
        total = memory.workers.total
        found.append(
            Target(
                "--workers 4 in all ≤ 4 x one worker + one pool",
                f"{total / mb:.0f} MB vs 4 x {worker / mb:.0f} + {pool / mb:.0f} = "
                f"{bound / mb:.0f} MB",
                total <= bound,
            )
        )
    return found


# Issue 11 (webhooks), "Speed".
EVENT_COST, BACKLOG_SECONDS, DRAIN_TAIL = 0.95, 60.0, 1.2


def webhook_targets(results: Results) -> list[Target]:
    found: list[Target] = []
    for w in results.webhooks:
        without, with_ = median(w.without), median(w.with_endpoint)
        if without and with_:
            ratio = with_.rps / without.rps
            found.append(
                Target(
                    f"POST /invoices with a webhook endpoint listening ≥ {EVENT_COST} x without: "
                    f"{w.dialect}, {w.size:,} invoices",
                    f"{ratio:.2f}x ({without.rps:,.0f} → {with_.rps:,.0f} req/s)",
                    ratio >= EVENT_COST,
                )
            )
        full = w.with_delivery()
        if without and full:
            delivered = full[0]
            ratio = delivered / without.rps
            found.append(
                Target(
                    f"the same, counting the time to deliver the events each run left pending: "
                    f"{w.dialect}, {w.size:,} invoices",
                    f"{ratio:.2f}x ({without.rps:,.0f} → {delivered:,.0f} req/s)",
                    ratio >= EVENT_COST,
                )
            )
        if w.backlog is not None:
            b = w.backlog
            seconds = b.received_s
            found.append(
                Target(
                    f"one process delivers a backlog of {b.events:,} events ≤ "
                    f"{BACKLOG_SECONDS:g} s: {w.dialect}",
                    f"{seconds:.1f} s ({b.events / seconds:,.0f}/s)"
                    if seconds is not None
                    else f"{b.received:,} delivered when the time limit ran out",
                    seconds is not None and seconds <= BACKLOG_SECONDS,
                )
            )
        idle, draining = median(w.idle), median(w.draining)
        if idle and draining:
            ratio = draining.p99_ms / idle.p99_ms
            found.append(
                Target(
                    f"GET /invoices/{{id}} p99 while the dispatcher drains ≤ {DRAIN_TAIL} x idle: "
                    f"{w.dialect}",
                    f"{ratio:.2f}x ({idle.p99_ms:.1f} → {draining.p99_ms:.1f} ms)",
                    ratio <= DRAIN_TAIL,
                )
            )
    return found


def webhook_section(results: Results) -> list[str]:
    if not results.webhooks:
        return []
    lines = [
        "## Webhooks (issue 11; bench/webhooks.py)",
        "",
        "A service of its own on the same database (`INVOICING_WEBHOOK_ALLOW_PRIVATE=true`, 1 "
        "process), a receiver answering 204 in a process of its own (bench/receiver.py). "
        "x = with ÷ without (or while draining ÷ idle), same run, interleaved.",
        "",
        "POST /invoices with no endpoint, and with one endpoint listening for `invoice.created` "
        "(the dispatcher delivering during the run). *events*: created during the run; "
        "*pending*: of those, still pending when it ended; *incl. delivery*: counting the "
        "delivery of those too at the rate and CPU per event of the backlog below: "
        "requests ÷ (run + pending ÷ events/s), and CPU µs/req + pending x CPU µs/event ÷ "
        "requests.",
        "",
        "| invoices | db | endpoint | req/s | p50 ms | p99 ms | CPU µs/req | events | pending "
        "| req/s incl. delivery | CPU µs/req incl. delivery | x req/s | x req/s incl. delivery "
        "| x p99 | x CPU incl. delivery | errors |",
        "|" + "---|" * 16,
    ]
    for w in results.webhooks:
        without, with_ = median(w.without), median(w.with_endpoint)
        size = f"10^{len(str(w.size)) - 1}"
        if without:
            lines.append(
                f"| {size} | {w.dialect} | none | {without.rps:,.0f} | {without.p50_ms:.2f} "
                f"| {without.p99_ms:.2f} | {without.cpu_us:,.0f} | | | {without.rps:,.0f} "
                f"| {without.cpu_us:,.0f} | | | | | {without.errors} |"
            )
        if without and with_:
            events = statistics.median(e for e, _ in w.events) if w.events else 0
            left = statistics.median(p for _, p in w.events) if w.events else 0
            full = w.with_delivery()
            delivered, cpu = (f"{full[0]:,.0f}", f"{full[1]:,.0f}") if full else ("", "")
            ratios = (
                (f"{full[0] / without.rps:.2f}", f"{full[1] / without.cpu_us:.2f}")
                if full
                else ("", "")
            )
            lines.append(
                f"| {size} | {w.dialect} | 1, listening | {with_.rps:,.0f} | {with_.p50_ms:.2f} "
                f"| {with_.p99_ms:.2f} | {with_.cpu_us:,.0f} | {events:,.0f} | {left:,.0f} "
                f"| {delivered} | {cpu} | {with_.rps / without.rps:.2f} | {ratios[0]} "
                f"| {with_.p99_ms / without.p99_ms:.2f} | {ratios[1]} | {with_.errors} |"
            )
    lines += [
        "",
        "A backlog for one endpoint, written while it was disabled (the service's own "
        "`events.emit`, in-process), then delivered by one server process once a PATCH enabled "
        "it: seconds from that PATCH until the receiver had every event, and until the last was "
        "recorded as delivered.",
        "",
        "| db | events | written in s | received in s | events/s | recorded in s "
        "| service CPU µs/event | receiver CPU µs/event |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w in results.webhooks:
        b = w.backlog
        if b is None:
            continue
        got = "—" if b.received_s is None else f"{b.received_s:.1f}"
        rate = b.received / b.received_s if b.received_s else 0.0
        recorded = "—" if b.recorded_s is None else f"{b.recorded_s:.1f}"
        lines.append(
            f"| {w.dialect} | {b.events:,} | {b.written_s:.1f} | {got} | {rate:,.0f} "
            f"| {recorded} | {b.service_cpu_us:,.0f} | {b.receiver_cpu_us:,.0f} |"
        )
    lines += [
        "",
        "GET /invoices/{id} with the dispatcher idle, and while it drains a backlog (sized to "
        "outlast the run; *sent* and *left*: deliveries during the run and still pending at its "
        "end).",
        "",
        "| db | dispatcher | req/s | p50 ms | p99 ms | CPU µs/req | sent | left | x p99 | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in results.webhooks:
        idle, draining = median(w.idle), median(w.draining)
        if idle:
            lines.append(
                f"| {w.dialect} | idle | {idle.rps:,.0f} | {idle.p50_ms:.2f} | {idle.p99_ms:.2f} "
                f"| {idle.cpu_us:,.0f} | | | | {idle.errors} |"
            )
        if idle and draining:
            sent = statistics.median(d[0] for d in w.drained) if w.drained else 0
            left = statistics.median(d[1] for d in w.drained) if w.drained else 0
            lines.append(
                f"| {w.dialect} | draining | {draining.rps:,.0f} | {draining.p50_ms:.2f} "
                f"| {draining.p99_ms:.2f} | {draining.cpu_us:,.0f} | {sent:,.0f} | {left:,.0f} "
                f"| {draining.p99_ms / idle.p99_ms:.2f} | {draining.errors} |"
            )
    return [*lines, ""]


def memory_section(memory: Memory | None) -> list[str]:
    if memory is None:
        return []
    lines = [
        "## Resident memory, process by process (bench/memory.py)",
        "",
        f"- 1 worker, after the soak: {memory.after_soak.describe()}",
    ]
    if memory.reference_mb:
        lines.append(f"- the reference: {memory.reference_mb:.0f} MB")
    if memory.workers is not None:
        lines.append(f"- `--workers 4`, idle after rendering PDFs: {memory.workers.describe()}")
    return [*lines, ""]


def machine() -> list[str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return [
        f"- CPUs: {os.cpu_count()} x {model}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.platform()}",
    ]


def render(
    results: Results, sizes: list[int], dialects: list[str], command: str, settings: str
) -> str:
    found = targets(results, sizes, dialects)
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (`make bench`); only the ratios to the reference compare "
        "across machines.",
        "",
        f"Command: `{command}`",
        "",
        *machine(),
        f"- {settings}",
        "",
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *(f"| {t.name} | {t.value} | {'PASS' if t.passed else 'MISS'} |" for t in found),
        "",
        "## Figures (median of the repetitions; x = service ÷ reference, same run)",
        "",
        "Payments and credit notes have no counterpart in the reference: their x columns divide "
        "by the reference's POST /invoices.",
        "",
        *table(results),
        "",
        *webhook_section(results),
        *memory_section(results.memory),
        "## Seeding",
        "",
        *(f"- {line}" for line in results.seeding),
    ]
    if results.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in results.notes)]
    return "\n".join(lines) + "\n"
