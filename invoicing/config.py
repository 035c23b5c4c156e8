from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from invoicing.core.numbering import NumberFormat


class Settings(BaseSettings):
    """Configuration from the environment (`INVOICING_*`)."""

    model_config = SettingsConfigDict(env_prefix="INVOICING_", extra="ignore")

    database_url: str = "sqlite:///./invoicing.db"
    default_currency: str = "USD"
    smtp_url: str | None = None
    smtp_timeout: float = 10.0
    outbox_dir: Path = Path("./outbox")
    mail_from: str = "invoices@localhost"
    seller_name: str = "Your Company"
    seller_address: str = ""
    locale: str = "en_US"
    # Whose calendar an issue date, a due date and "today" (overdue) are in.
    timezone: str = "UTC"
    invoice_number_format: str = "{seq}"
    credit_note_number_format: str = "CN-{seq}"
    # POST /invoices refuses (422) an invoice that could not be a valid EN 16931 e-invoice.
    require_einvoice: bool = False
    pool_size: int = Field(default=10, ge=1, le=200)
    db_timeout: float = Field(default=5.0, gt=0)
    cors_origins: list[str] = []
    log_level: str = "info"
    # Connections (per server process; see invoicing.web.server and `invoicing serve --help`).
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)
    keep_alive_timeout: int = Field(default=5, ge=1)
    max_connections: int = Field(default=1000, ge=1)
    # PDF rendering, in one pool of `render_processes` processes per `invoicing serve` that all
    # its server processes share, started on the first PDF (invoicing.documents.renderer). Renders
    # wait in two lanes, documents of at most `pdf_small_document_lines` lines (half the
    # processes, rounded up) and larger ones; per lane, at most `pdf_queue_limit` wait (503 past
    # it), and a token has at most `pdf_queue_limit_per_token` waiting or running (429 past it).
    # A render process is ~62 MB idle and a render keeps one core busy: more processes than cores
    # render no faster.
    render_processes: int = Field(default=2, ge=2, le=64)
    pdf_render_timeout: float = Field(default=60.0, gt=0)
    pdf_small_document_lines: int = Field(default=50, ge=1)
    pdf_queue_limit: int = Field(default=10, ge=0)
    pdf_queue_limit_per_token: int = Field(default=2, ge=1)
    # Issued documents are stored once (invoicing.documents.store). Each server process renders
    # the PDFs (and e-invoices) of new invoices and credit notes ahead of their first request, one
    # at a time, while it has idle CPU, looking for new ones every `render_ahead_interval` seconds
    # (invoicing.documents.ahead). Off, each is made on its first request or send.
    render_ahead: bool = True
    render_ahead_interval: float = Field(default=2.0, gt=0)
    # POST /invoices/{id}/send: at most this many per invoice in any hour (429 past it).
    invoice_sends_per_hour: int = Field(default=10, ge=1)
    # Off only to compare: the busiest routes then go through FastAPI's router like the rest.
    fast_path: bool = True
    # Signs console sessions and encrypts webhook secrets at rest (invoicing.core.keys): required
    # on PostgreSQL; on SQLite, generated once beside the database file when unset.
    secret_key: str | None = Field(default=None, min_length=32)
    # Webhooks (invoicing.webhooks). Private, loopback and link-local receivers are refused unless
    # allowed (development and tests).
    webhook_allow_private: bool = False
    webhook_timeout: float = Field(default=10.0, gt=0)
    # Deliveries in flight per server process, and per endpoint (a slow receiver cannot take
    # every slot); how often an idle dispatcher looks for due deliveries.
    webhook_concurrency: int = Field(default=32, ge=1, le=1000)
    webhook_concurrency_per_endpoint: int = Field(default=8, ge=1, le=1000)
    webhook_poll_interval: float = Field(default=1.0, gt=0)
    # Off only where something else drives the dispatcher (tests with a clock of their own).
    webhook_dispatch: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{name!r} is not an IANA time zone such as Europe/Berlin") from None
        return name

    @field_validator("invoice_number_format", "credit_note_number_format")
    @classmethod
    def _number_format(cls, text: str) -> str:
        return NumberFormat.parse(text).text

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    return Settings()
