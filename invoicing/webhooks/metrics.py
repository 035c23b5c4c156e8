"""The webhook deliveries' Prometheus metrics, in the server process's registry.

Apart from the dispatcher, so that the server, which only adds up what its delivery process
(`invoicing.webhooks.worker`) reports, imports neither the dispatcher nor its HTTP client."""

from prometheus_client import Counter, Gauge

ATTEMPTS = Counter(
    "invoicing_webhook_attempts_total",
    "Webhook delivery attempts, by outcome",
    ["outcome"],
)
OLDEST_PENDING = Gauge(
    "invoicing_webhook_oldest_pending_seconds",
    "Age of the oldest event not yet delivered to an endpoint (0 when none waits)",
)
