import fcntl
from pathlib import Path

from alembic import command
from alembic.config import Config

from invoicing.db.url import dialect, sqlite_path


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "invoicing:migrations")
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Bring the schema to the newest revision; safe to call from several processes at once."""
    config = alembic_config(database_url)
    if dialect(database_url) != "sqlite":
        command.upgrade(config, "head")  # serialized by an advisory lock in env.py
        return
    path = Path(sqlite_path(database_url))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrate-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        command.upgrade(config, "head")
