from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter, Histogram, values

REQUESTS = Counter(
    "invoicing_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "invoicing_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INVOICES_CREATED = Counter("invoicing_invoices_created_total", "Invoices created")


class _Series:
    """The values inside one (method, route, status)'s labelled children: the request count, the
    latency sum and the latency buckets (the first whose upper bound is at least the duration)."""

    __slots__ = ("buckets", "count", "latency_sum", "upper_bounds")

    def __init__(self, method: str, route: str, status: int) -> None:
        latency: Any = LATENCY.labels(method, route)
        self.count: Any = REQUESTS.labels(method, route, str(status))._value
        self.latency_sum: Any = latency._sum
        self.buckets: list[Any] = latency._buckets
        self.upper_bounds: list[float] = latency._upper_bounds


_series: dict[tuple[str, str, int], _Series] = {}


def _observe_in_process(method: str, route: str, status: int, duration: float) -> None:
    """As `REQUESTS.labels(...).inc()` and `LATENCY.labels(...).observe(duration)`, adding to
    their values directly. Those calls check, loop over the buckets and take three locks per
    request: 16,700 instructions (callgrind; 2-3 µs), against 4,400 this way (0.7 µs). Only the
    event loop's thread counts requests, so the values' locks guard nothing here;
    prometheus-client is pinned, and tests/web/test_metrics_series.py checks the exposition
    against the public calls'."""
    key = (method, route, status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = _Series(method, route, status)
    series.count._value += 1
    series.latency_sum._value += duration
    series.buckets[bisect_left(series.upper_bounds, duration)]._value += 1


def _observe_public(method: str, route: str, status: int, duration: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(duration)


# Count a request and its latency. Under PROMETHEUS_MULTIPROC_DIR the values live in shared
# files, and only the public calls know how to add to them.
observe: Callable[[str, str, int, float], None] = (
    _observe_in_process if values.ValueClass is values.MutexValue else _observe_public
)
