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
