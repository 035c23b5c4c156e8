import asyncio

from alembic import context
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from invoicing.db.tables import metadata
from invoicing.db.url import sqlalchemy_url

# Several server processes may start at once on one database: only one migrates at a time.
MIGRATION_LOCK = 7_452_019


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    with context.begin_transaction():
        context.run_migrations()


async def run_async(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


def main() -> None:
    url = sqlalchemy_url(context.config.attributes["database_url"])
    if url.startswith("postgresql+asyncpg"):
        asyncio.run(run_async(url))
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
