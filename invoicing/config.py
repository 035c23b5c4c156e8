from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    pool_size: int = Field(default=10, ge=1, le=200)
    db_timeout: float = Field(default=5.0, gt=0)
    cors_origins: list[str] = []
    log_level: str = "info"
    # Off only to compare: the busiest routes then go through FastAPI's router like the rest.
    fast_path: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
