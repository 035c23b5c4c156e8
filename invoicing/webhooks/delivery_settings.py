"""What a server tells its delivery process (`invoicing.webhooks.worker`) of its settings: the few
that delivery uses, as plain values in one JSON line.

Not the server's `Settings`: that is a pydantic-settings model, and parsing one would load pydantic
and pydantic-settings into the delivery process: 11 MB of its 44 (idle; 33 MB without)."""

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from invoicing.config import Settings


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    database_url: str
    db_timeout: float
    log_level: str
    webhook_allow_private: bool
    webhook_timeout: float
    webhook_concurrency: int
    webhook_concurrency_per_endpoint: int
    webhook_poll_interval: float
    # The server's, resolved (configured, or the one generated beside a SQLite database), so that
    # the delivery process needs no `Settings` to find it.
    secret_key: str

    @classmethod
    def of(cls, settings: "Settings", secret_key: str) -> "DeliverySettings":
        values = {f.name: getattr(settings, f.name) for f in fields(cls) if f.name != "secret_key"}
        return cls(**values, secret_key=secret_key)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, line: bytes) -> "DeliverySettings":
        return cls(**orjson.loads(line))
