from typing import Any

from prometheus_client import Counter, Histogram

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

_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe(method: str, route: str, status: int, duration: float) -> None:
    """Count a request and its latency (label lookups cached: they cost more than the update)."""
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = _children[key] = (
            REQUESTS.labels(method, route, str(status)),
            LATENCY.labels(method, route),
        )
    children[0].inc()
    children[1].observe(duration)
