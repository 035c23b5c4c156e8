"""What the command line's subcommands share."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import typer

from invoicing.config import Settings
from invoicing.db import create_database
from invoicing.db.base import Database
from invoicing.db.url import dialect, sqlite_path


@asynccontextmanager
async def existing_database(settings: Settings) -> AsyncIterator[Database]:
    """The service's database, connected; a SQLite file that does not exist stops the command
    (connecting would make an empty one, without the service's tables)."""
    if dialect(settings.database_url) == "sqlite":
        path = Path(sqlite_path(settings.database_url)).resolve()
        if not path.exists():
            typer.echo(
                f"No database at {path}: run this where `invoicing serve` runs, or with its "
                "INVOICING_DATABASE_URL.",
                err=True,
            )
            raise typer.Exit(1)
    database = create_database(settings.database_url, timeout=settings.db_timeout)
    await database.connect()
    try:
        yield database
    finally:
        await database.close()
