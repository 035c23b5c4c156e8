"""Medians, ratios to the reference, the performance targets, the table, bench/RESULTS.md."""

import os
import platform
import statistics
from dataclasses import dataclass, field
from pathlib import Path

GET, POST, ORDERS, LIST, PDF = (
    "GET /invoices/{id}",
    "POST /invoices",
    "POST /orders",
    "GET /invoices deep",
    "GET /invoices/{id}/pdf",
)
PAYMENT, CREDIT_NOTE = "POST /invoices/{id}/payments", "POST /invoices/{id}/credit-notes"
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


@dataclass
class Results:
    samples: dict[Key, list[Sample]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seeding: list[str] = field(default_factory=list)
    soak: list[tuple[float, int]] | None = None
    pdf_stall: tuple[float, float] | None = None  # GET p99 alone, GET p99 while PDFs render

    def add(self, key: Key, sample: Sample) -> None:
        self.samples.setdefault(key, []).append(sample)

    def median(self, key: Key) -> Sample | None:
        runs = self.samples.get(key)
        if not runs:
            return None
        return Sample(
            *(
                statistics.median(getattr(s, f) for s in runs)
                for f in ("rps", "p50_ms", "p99_ms", "cpu_us", "rss_mb")
            ),
            errors=sum(s.errors for s in runs),  # type: ignore[misc]
        )


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
                    Target(f"req/s ≥ 0.6 x reference: {where}", f"{ratio:.2f}x", ratio >= 0.6)
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
        if key.scenario == PDF:
            pdf = med(key)
            assert pdf is not None
            found.append(
                Target(
                    f"one-page PDF median ≤ 100 ms ({key.dialect}, c1)",
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
        "## Seeding",
        "",
        *(f"- {line}" for line in results.seeding),
    ]
    if results.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in results.notes)]
    return "\n".join(lines) + "\n"
