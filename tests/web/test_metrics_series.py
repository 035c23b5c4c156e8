"""`metrics.observe` adds to the labelled children's values directly: the exposition must be what
prometheus-client's own `inc()` and `observe()` would have made of the same requests."""

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from invoicing.web import metrics

# On each bucket's bound, between bounds, below the first, past the last (+Inf).
DURATIONS = [0.0, 0.001, 0.0010001, 0.0042, 0.005, 0.7, 10.0, 10.5, 0.0025, 3e-7]


def _exposition(registry: CollectorRegistry, route: str) -> list[str]:
    """The registry's sample lines for `route`, without the `_created` timestamps."""
    return [
        line
        for line in generate_latest(registry).decode().splitlines()
        if f'route="{route}"' in line and "_created" not in line
    ]


def test_observe_exposes_what_the_public_calls_would() -> None:
    route = "/metrics-series-test/{id}"
    expected = CollectorRegistry()
    requests = Counter(
        "invoicing_requests_total",
        "HTTP requests answered",
        ["method", "route", "status"],
        registry=expected,
    )
    latency = Histogram(
        "invoicing_request_duration_seconds",
        "Time to answer an HTTP request",
        ["method", "route"],
        buckets=metrics.LATENCY._kwargs["buckets"],
        registry=expected,
    )
    for index, duration in enumerate(DURATIONS):
        status = 200 if index % 3 else 404
        metrics.observe("GET", route, status, duration)
        requests.labels("GET", route, str(status)).inc()
        latency.labels("GET", route).observe(duration)

    served = _exposition(REGISTRY, route)
    assert served == _exposition(expected, route)
    assert any("_bucket" in line and 'le="+Inf"' in line for line in served)
    assert 'invoicing_requests_total{method="GET",route="' + route + '",status="404"} 4.0' in served


def test_observe_keeps_the_created_series() -> None:
    route = "/metrics-series-created/{id}"
    metrics.observe("POST", route, 201, 0.01)
    lines = generate_latest().decode().splitlines()
    assert any(line.startswith("invoicing_requests_created{") and route in line for line in lines)
    assert any(
        line.startswith("invoicing_request_duration_seconds_created{") and route in line
        for line in lines
    )
